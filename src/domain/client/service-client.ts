import { DomainErrors } from '../shared/errors';
import { parseScope } from './scope';

/**
 * A service registered for the client-credentials grant (RFC 6749 §4.4). It holds the digest of its secret,
 * never the secret: the secret is shown once, when the client is created. Deleting a client is final: the row
 * stays (its id is never reused, the audit keeps meaning) but it no longer authenticates, and the tokens it
 * was issued stop introspecting as active.
 */
export interface ServiceClientState {
  id: string;
  name: string;
  secretHash: string;
  /** The scopes this client may ask for; a token request without `scope` gets all of them. */
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  deletedAt: Date | null;
}

export interface NewServiceClient {
  id: string;
  name: string;
  secretHash: string;
  /** Space-separated, as an operator types it (`--scopes "a b"`). */
  scope: string;
}

const MAX_NAME_LENGTH = 100;

export class ServiceClient {
  private constructor(private readonly state: ServiceClientState) {}

  static register(input: NewServiceClient, now: Date): ServiceClient {
    const name = input.name.trim();
    if (name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
      throw DomainErrors.validation('name', `must be 1-${MAX_NAME_LENGTH} printable characters`);
    }
    const scopes = parseScope(input.scope.trim().replace(/\s+/g, ' '));
    if (scopes === null) {
      throw DomainErrors.validation('scopes', 'must be space-separated scope tokens of printable ASCII without " or \\');
    }
    return new ServiceClient({ id: input.id, name, secretHash: input.secretHash, scopes, createdAt: now, lastUsedAt: null, deletedAt: null });
  }

  static restore(state: ServiceClientState): ServiceClient {
    return new ServiceClient({ ...state, scopes: [...state.scopes] });
  }

  get id(): string {
    return this.state.id;
  }
  get name(): string {
    return this.state.name;
  }
  get secretHash(): string {
    return this.state.secretHash;
  }
  get scopes(): readonly string[] {
    return this.state.scopes;
  }
  get createdAt(): Date {
    return this.state.createdAt;
  }
  get lastUsedAt(): Date | null {
    return this.state.lastUsedAt;
  }

  isActive(): boolean {
    return this.state.deletedAt === null;
  }

  /**
   * The scopes a token request gets: all the allowed ones when it names none (RFC 6749 §3.3 lets the server
   * apply a default), else exactly those asked for when every one is allowed; null when any is not.
   */
  grant(requested: readonly string[] | null): string[] | null {
    if (requested === null) return [...this.state.scopes];
    return requested.every((scope) => this.state.scopes.includes(scope)) ? [...requested] : null;
  }

  toState(): ServiceClientState {
    return { ...this.state, scopes: [...this.state.scopes] };
  }
}
