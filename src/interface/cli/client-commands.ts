import type { Container } from 'inversify';
import { CreateClient } from '@application/oauth/create-client';
import { DeleteClient } from '@application/oauth/delete-client';
import { ListClients } from '@application/oauth/list-clients';
import { RotateClientSecret } from '@application/oauth/rotate-client-secret';
import { ServiceClient } from '@domain/client/service-client';
import { DomainError } from '@domain/shared/domain-error';
import { shownArgument } from './cli-io';

export const CLIENT_COMMANDS = ['create-client', 'list-clients', 'delete-client', 'rotate-client-secret'] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

export const CLIENT_USAGE = `  create-client --name N --scopes "a b"   register a service client (client_credentials); prints its secret once
  list-clients                             list the service clients (never a secret)
  delete-client --id ID                    delete a service client; its tokens stop introspecting as active
  rotate-client-secret --id ID [--revoke-tokens]
                                           give a service client a new secret, printed once; the old one is refused
                                           at once. With --revoke-tokens its tokens issued before stop introspecting
                                           as active (one issued in the rotation's own second may stay); without,
                                           they live until they expire (ACCESS_TOKEN_TTL). Offline (JWKS) verifiers
                                           accept them until they expire either way
`;

/** A command line that does not fit its command: usage and exit 2 (CONTRACT §8). */
export class UsageError extends Error {}

/** `flags` take no value (`--revoke-tokens`); parsed as present, `'true'`. */
const OPTIONS: Record<ClientCommand, { required: string[]; optional: string[]; flags: string[] }> = {
  'create-client': { required: ['name', 'scopes'], optional: [], flags: [] },
  'list-clients': { required: [], optional: [], flags: [] },
  'delete-client': { required: ['id'], optional: [], flags: [] },
  'rotate-client-secret': { required: ['id'], optional: [], flags: ['revoke-tokens'] },
};

export function isClientCommand(command: string | undefined): command is ClientCommand {
  return (CLIENT_COMMANDS as readonly string[]).includes(command ?? '');
}

/** A client id as the service makes them. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `--name value` or `--name=value`, each at most once, only the command's own options; a flag alone (`--flag`,
 * never `--flag=value`); a separate value never starts with `--`. Checked before the application starts, so a typo costs nothing. No secret is ever an
 * argument (it would show in `ps`).
 */
export function parseClientOptions(command: ClientCommand, args: readonly string[]): Record<string, string> {
  const spec = OPTIONS[command];
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 1) {
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(args[i]!);
    if (!match) throw new UsageError(`unexpected ${shownArgument(args[i], i + 1)}`);
    const name = match[1]!;
    if (![...spec.required, ...spec.optional, ...spec.flags].includes(name)) throw new UsageError(`unknown option for ${command}: --${name}`);
    if (name in options) throw new UsageError(`--${name} given twice`);
    if (spec.flags.includes(name)) {
      if (match[2] !== undefined) throw new UsageError(`--${name} takes no value`);
      options[name] = 'true';
      continue;
    }
    // A separate value never starts with `--`: `--id --revoke-tokens` is a forgotten id, not an id "--revoke-tokens"
    // (the flag would be lost and the id not found). `--name=--x` still takes such a value.
    if (match[2] === undefined && args[i + 1]?.startsWith('--') === true) throw new UsageError(`--${name} needs a value, not the option ${shownArgument(args[i + 1], i + 2)}`);
    const value = match[2] ?? args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    options[name] = value;
  }
  const missing = spec.required.filter((name) => !(name in options));
  if (missing.length > 0) throw new UsageError(`${command} needs ${missing.map((n) => `--${n}`).join(' and ')}`);
  // A client id is a UUID: anything else (an empty `--id=`, a name) is a bad argument, not a client to look for
  // (exit 1, "No such client.", until an outside review, 2026-12-03).
  if ('id' in options && !UUID.test(options['id']!)) throw new UsageError(`--id must be a client id (a UUID); the value given (${[...options['id']!].length} characters) is not shown: it may be a secret pasted in the wrong place`);
  // Stored as the service made it, lower-case, and compared as text: an id copied upper-cased (many tools print UUIDs
  // so) was "No such client." to delete-client and rotate-client-secret, while the leaked secret it was meant to
  // stop kept working (a security review, 2026-12-05).
  if ('id' in options) options['id'] = options['id']!.toLowerCase();
  // The values too, before the database is opened (an empty name or a scope with `"` was refused only after).
  if (command === 'create-client') {
    try {
      ServiceClient.checkNew(options['name']!, options['scopes']!);
    } catch (error) {
      const details = error instanceof DomainError ? Object.entries(error.details ?? {}).map(([field, why]) => `--${field} ${why.join(', ')}`) : [];
      throw new UsageError(details.length > 0 ? details.join('; ') : 'create-client: bad --name or --scopes');
    }
  }
  return options;
}

/** Runs one client command; resolves to the JSON object to print. */
export async function runClientCommand(container: Container, command: ClientCommand, options: Record<string, string>): Promise<object> {
  if (command === 'create-client') {
    const { client, secret } = await container.get(CreateClient).execute({ name: options['name']!, scopes: options['scopes']! });
    return { client_id: client.id, client_secret: secret, scopes: [...client.scopes] };
  }
  if (command === 'list-clients') return { clients: (await container.get(ListClients).execute()).map(presentClient) };
  if (command === 'rotate-client-secret') {
    const rotated = await container.get(RotateClientSecret).execute({ id: options['id']!, revokeTokens: options['revoke-tokens'] === 'true' });
    return { client_id: rotated.client.id, client_secret: rotated.secret, tokens_revoked: rotated.tokensRevoked };
  }
  await container.get(DeleteClient).execute({ id: options['id']! });
  return { deleted: true };
}

/** Whitelisted: never the secret's digest. */
function presentClient(client: ServiceClient): object {
  return {
    client_id: client.id,
    name: client.name,
    scopes: [...client.scopes],
    created_at: client.createdAt.toISOString(),
    last_used_at: client.lastUsedAt?.toISOString() ?? null,
  };
}
