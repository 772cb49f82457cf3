import { DomainErrors } from '../shared/errors';
import { MAX_SCOPE_LENGTH, MAX_SCOPES, parseScope } from './scope';

/**
 * A service registered for the client-credentials grant (RFC 6749 §4.4). It holds the digest of its secret,
 * never the secret: the secret is shown once, when the client is created or its secret is replaced. Deleting a
 * client is final: the row stays (its id is never reused, the audit keeps meaning) but it no longer
 * authenticates, and the tokens it was issued stop introspecting as active. Replacing its secret can also cut
 * off the tokens issued before (`tokensValidAfter`).
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
  /**
   * Tokens issued in this instant's whole second or earlier stop introspecting as active (a secret replaced with
   * its tokens revoked; see acceptsTokenIssuedAt); null: no cut-off. Only ever moves forward.
   */
  tokensValidAfter: Date | null;
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
    const { name, scopes } = ServiceClient.checkNew(input.name, input.scope);
    return new ServiceClient({ id: input.id, name, secretHash: input.secretHash, scopes, createdAt: now, lastUsedAt: null, deletedAt: null, tokensValidAfter: null });
  }

  /**
   * A new client's name and scopes as register() takes them (trimmed; scopes split), or a VALIDATION_ERROR naming
   * the field. The CLI asks before it opens the database, as it checks every other argument.
   */
  static checkNew(rawName: string, rawScope: string): { name: string; scopes: string[] } {
    const name = rawName.trim();
    if (name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
      throw DomainErrors.validation('name', `must be 1-${MAX_NAME_LENGTH} printable characters`);
    }
    const scopes = parseScope(rawScope.trim().replace(/\s+/g, ' '));
    if (scopes === null) {
      throw DomainErrors.validation('scopes', `must be at most ${MAX_SCOPES} space-separated scope tokens of at most ${MAX_SCOPE_LENGTH} printable ASCII characters without " or \\`);
    }
    return { name, scopes };
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

  get tokensValidAfter(): Date | null {
    return this.state.tokensValidAfter;
  }

  isActive(): boolean {
    return this.state.deletedAt === null;
  }

  /**
   * The client with `secretHash` as its secret's digest instead (the old secret stops authenticating once this is
   * saved). With `revokeTokens` the tokens issued up to `now` are cut off too (to the end of its second: see
   * acceptsTokenIssuedAt): the cut-off becomes `now`, or stays where it is if that is later (a clock behind another
   * instance's never lifts a cut-off). A deleted client keeps what it has: the caller answers "not found" before
   * asking.
   */
  withNewSecret(secretHash: string, now: Date, revokeTokens: boolean): ServiceClient {
    if (!this.isActive()) throw new Error('a deleted client gets no new secret');
    const previous = this.state.tokensValidAfter;
    const cutOff = revokeTokens && (previous === null || previous.getTime() < now.getTime()) ? now : previous;
    return new ServiceClient({ ...this.toState(), secretHash, tokensValidAfter: cutOff === null ? null : new Date(cutOff.getTime()) });
  }

  /**
   * Whether a token of this client issued at `issuedAtSeconds` (a JWT's `iat`: whole seconds, rounded down) is
   * still honoured: not when the client is deleted, nor when it was issued in the cut-off's second or earlier.
   * Only a token issued in a second that began after the cut-off passes: `iat` cannot tell a token signed early in
   * the cut-off's second (the old secret's, before the rotation committed) from one signed late in it (the new
   * secret's), so that whole second is refused. A token request of the new secret in that second is therefore
   * signed only once it is over (IssueClientToken waits for tokensAcceptedFrom()).
   */
  acceptsTokenIssuedAt(issuedAtSeconds: number): boolean {
    if (!this.isActive()) return false;
    const from = this.tokensAcceptedFrom();
    return from === null || issuedAtSeconds * 1000 >= from.getTime();
  }

  /**
   * The first instant at which a token issued is honoured (acceptsTokenIssuedAt): the start of the second after
   * the cut-off's; null without a cut-off (any instant).
   */
  tokensAcceptedFrom(): Date | null {
    const cutOff = this.state.tokensValidAfter;
    return cutOff === null ? null : new Date((Math.floor(cutOff.getTime() / 1000) + 1) * 1000);
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
