import 'reflect-metadata';
import { type Application, createApplication } from '@config/application';
import { ConfigError, loadConfig } from '@config/env';
import { purgeExpired, reseal } from '@config/maintenance';
import { DomainError } from '@domain/shared/domain-error';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { SystemClock } from '@infrastructure/time/system-clock';
import { JWKS_MAX_AGE_SECONDS } from '@interface/http/routes/well-known.routes';
import { CLIENT_USAGE, isClientCommand, parseClientOptions, runClientCommand, UsageError } from './client-commands';
import { createAdmin, parseCreateAdmin, readCreateAdminStdin } from './create-admin';
import { parseUnlock, unlock } from './unlock';
import { parseWithdrawKey, withdrawKey } from './withdraw-key';
import { failureLine, shownArgument, type CliIo } from './cli-io';
import { databaseClock } from './database-clock';

/**
 * The admin CLI (CONTRACT §8) as a function of its arguments, environment and streams: `cli.ts` runs it on the
 * process's own; the tests run it in process (no child process compiling the sources for each command).
 * Returns the exit code: 0, 2 for bad arguments (usage on stderr), 1 otherwise (a configuration error or a
 * failure says why on stderr).
 */
export async function runAdminCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await main(argv, io);
  } catch (error) {
    io.stderr.write(`${error instanceof ConfigError ? error.oneLine : failureLine('cli', error)}\n`);
    return 1;
  }
}

const USAGE = `usage: npm run cli -- <command>

  create-admin --email E [--password-stdin]
                  create an active, verified admin (password read from stdin, else generated and printed once),
                  or add the admin role to the existing account with this address
  unlock --email E
                  lift the account's login lockout and its second step's (as POST /admin/users/:id/unlock does):
                  for an admin locked out with no other admin to unlock them
  rotate-keys [--force]
                  promote the pre-published next signing key, retire the active one, publish a new next key;
                  refused while the next key is younger than the JWKS's cache lifetime plus a margin (360 s) unless --force
  withdraw-key --kid K
                  delete the retired signing key K at once, before its tokens' window ends: after a leak, right after
                  rotate-keys --force (every instance stops publishing and accepting it within 60 s; docs/key-rotation.md);
                  the active and the next key are refused
  purge-expired   delete expired sessions and one-time tokens, published outbox rows, sent and failed emails,
                  processed account requests and processed-event records past OUTBOX_RETENTION, audit entries past
                  AUDIT_RETENTION (in batches of 5,000, skipping rows in use), expired keys; the service also runs it
                  every PURGE_INTERVAL
  reseal          seal every stored secret (signing keys, TOTP secrets, refresh tokens, queued e-mails and
                  account requests) under the current ENCRYPTION_KEY, so ENCRYPTION_KEYS_PREVIOUS can be emptied;
                  exit 1 while some value opens under no key held
${CLIENT_USAGE}`;

/**
 * Log lines to stderr (stdout carries the one JSON object); no query deadline: purge-expired's batches may rightly
 * run longer than DATABASE_QUERY_TIMEOUT, and an operator watches the command.
 */
async function openApplication(io: CliIo, signingKeys: 'manage' | 'follow' = 'follow'): Promise<Application> {
  const config = loadConfig(io.env);
  // The database's time, not this host's: a command's cut-offs, key ages and expiries are read by the service
  // instances against their NTP-synced clocks (a host an hour ahead locked a client out for that hour: stop 52).
  const clock = await databaseClock(config, io.clock ?? new SystemClock());
  // Commands read the signing keys as they are (`follow`); rotate-keys makes and retires keys only after checking
  // that its JWT_ALG is the active key's: run with another JWT_ALG than the service's, any command used to switch the
  // fleet's signing key (an outside review).
  // No background work (no relay, sender, request worker or subscribers): a command's events and e-mails wait in
  // their outboxes for the service's workers, and the service's are never taken by a command.
  // Logs only when LOG_LEVEL asks for them: a command's stderr is its one line of failure (CONTRACT §8), not the
  // start-up's warnings (embedded mode's "ENCRYPTION_KEY not set" came before every failure: an outside review).
  const level = io.env.LOG_LEVEL?.trim() ? config.logLevel : 'silent';
  // A Redis that cannot be reached fails the command (redisAtStart `require`), as before stop 51: the service starts
  // degraded without it, but a command (unlock) must not half-run and leave its clear owed in a memory that ends with it.
  return createApplication(config, { logger: createLogger(level, io.stderr), clock, queryDeadline: false, signingKeys, background: false, redisAtStart: 'require' });
}

async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const command = argv[0];
  if (isClientCommand(command)) return clientCommand(command, argv.slice(1), io);
  if (command === 'create-admin') {
    return accountCommand(io, parseCreateAdmin(argv.slice(1)), (app, options) => createAdmin(app, options, io), (options) => readCreateAdminStdin(options, io.stdin));
  }
  if (command === 'unlock') return accountCommand(io, parseUnlock(argv.slice(1)), (app, options) => unlock(app, options.email));
  if (command === 'withdraw-key') return withdrawKeyCommand(argv.slice(1), io);
  if (command !== 'rotate-keys' && command !== 'purge-expired' && command !== 'reseal') {
    io.stderr.write(command ? `unknown command: ${shownArgument(command, 0, 'command')}\n\n${USAGE}` : USAGE);
    return 2;
  }
  // purge-expired and reseal take no argument, rotate-keys only --force: anything else (a `--dry-run`, a typo) is refused
  // before they act, not ignored.
  const force = command === 'rotate-keys' && argv[1] === '--force';
  if (argv.length > (force ? 2 : 1)) {
    const unexpected = argv[force ? 2 : 1];
    io.stderr.write(`${command} takes no arguments${command === 'rotate-keys' ? ' but --force' : ''}: unexpected ${shownArgument(unexpected, force ? 2 : 1)}\n\n${USAGE}`);
    return 2;
  }
  const app = await openApplication(io);
  try {
    if (command === 'rotate-keys') {
      // A rotation keeps the fleet's algorithm: run with another JWT_ALG, it would make a key of that one active.
      const active = app.infra.keys.activeAlgorithm;
      if (active !== null && active !== app.config.jwt.alg) {
        io.stderr.write(
          `rotate-keys: the active signing key is ${active} but JWT_ALG here is ${app.config.jwt.alg}: run it with the service's JWT_ALG (an algorithm is changed by setting JWT_ALG on the service and restarting it)\n`,
        );
        return 1;
      }
      // A store without a next key gets one here (published from now on), and then counts as just published.
      await app.infra.keys.init();
      // A next key written less than the JWKS's max-age ago, plus the time instances take to load it, may be missing
      // from a verifier's cached key set: promoted now, the tokens it signs fail there until that cache expires (a
      // second rotation right after a first did this; until stop 47 the instances' 60 s reload lag was not counted).
      const lag = app.infra.keys.publicationLagSeconds;
      const minAge = JWKS_MAX_AGE_SECONDS + lag;
      const refused = await app.infra.keys.rotate(force ? 0 : minAge);
      if (refused) {
        const age = refused.refusedAgeSeconds;
        io.stderr.write(
          `rotate-keys: the next signing key was written ${age} s ago; the instances publish it within ${lag} s and verifiers may cache the JWKS for ${JWKS_MAX_AGE_SECONDS} s, so some would not know it yet: wait ${minAge - age} s, or run rotate-keys --force (an emergency: the next key is compromised too)\n`,
        );
        return 1;
      }
      // CONTRACT §8: one JSON object, the kids now published (the active key, the next one, retired ones still in use).
      const kids = app.infra.keys.jwks().keys.map((k) => k.kid);
      io.stdout.write(`${JSON.stringify({ published_kids: kids })}\n`);
    } else if (command === 'reseal') {
      const counts = await reseal(app.infra);
      io.stdout.write(`${JSON.stringify(Object.fromEntries(Object.entries(counts).map(([key, value]) => [snakeCase(key), value])))}\n`);
      const unopenable = Object.values(counts).reduce((sum, tally) => sum + tally.unopenable, 0);
      if (unopenable > 0) {
        io.stderr.write(
          `reseal: ${unopenable} sealed value(s) open under no key given (ENCRYPTION_KEY, ENCRYPTION_KEYS_PREVIOUS) and were left as they are: keep every previous key until this is 0 (purge-expired removes ended sessions and sent e-mails; an account's TOTP is reset by DELETE /admin/users/{id}/mfa)\n`,
        );
        return 1;
      }
    } else {
      // snake_case, as every other command prints (camelCase until an outside review, 2026-12-03).
      const counts = await purgeExpired(app.infra, { outboxRetentionSeconds: app.config.events.outboxRetentionSeconds, auditRetentionSeconds: app.config.auditRetentionSeconds });
      io.stdout.write(`${JSON.stringify(Object.fromEntries(Object.entries(counts).map(([key, value]) => [snakeCase(key), value])))}\n`);
    }
    return 0;
  } finally {
    await app.close();
  }
}

/**
 * withdraw-key (an extension beyond CONTRACT §8's list, like unlock and reseal: an outside review, 2026-12-07 found no
 * way to withdraw a leaked key early). Bad arguments: usage, exit 2, before the database is opened. The keys are
 * read as they are (`follow`): a withdrawal creates and retires none, whatever this environment's JWT_ALG.
 */
async function withdrawKeyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const options = parseWithdrawKey(args);
  if (typeof options === 'string') {
    io.stderr.write(`${options}\n\n${USAGE}`);
    return 2;
  }
  const app = await openApplication(io);
  try {
    return await withdrawKey(app, options.kid, io);
  } finally {
    await app.close();
  }
}

/**
 * create-admin and unlock: the parsed arguments (or why they are refused: usage, exit 2), then one action on the
 * opened application, its result printed as one JSON object. A malformed address is a bad argument (usage, exit 2);
 * any other refusal (a password the policy refuses, an unknown account) says why on one line (exit 1).
 */
async function accountCommand<T extends object>(
  io: CliIo,
  options: T | string,
  act: (app: Application, options: T) => Promise<object>,
  /** What is read before the database is opened (create-admin's stdin), refused as the action's refusals are. */
  prepare: (options: T) => Promise<T> = async (given) => given,
): Promise<number> {
  if (typeof options === 'string') {
    io.stderr.write(`${options}\n\n${USAGE}`);
    return 2;
  }
  let prepared: T;
  try {
    prepared = await prepare(options);
  } catch (error) {
    return refused(error, io);
  }
  const app = await openApplication(io);
  try {
    io.stdout.write(`${JSON.stringify(await act(app, prepared))}\n`);
    return 0;
  } catch (error) {
    return refused(error, io);
  } finally {
    await app.close();
  }
}

/** A DomainError on one line of stderr: a bad argument (VALIDATION_ERROR) with usage, exit 2; any other, exit 1. */
function refused(error: unknown, io: CliIo): number {
  if (!(error instanceof DomainError)) throw error;
  const badArgument = error.code === 'VALIDATION_ERROR';
  io.stderr.write(`${refusal(error)}\n${badArgument ? `\n${USAGE}` : ''}`);
  return badArgument ? 2 : 1;
}

/** The client commands (CONTRACT §8): one JSON object on stdout; bad arguments exit 2, other failures 1. */
async function clientCommand(command: Parameters<typeof runClientCommand>[1], args: readonly string[], io: CliIo): Promise<number> {
  let options: Record<string, string>;
  try {
    options = parseClientOptions(command, args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  const app = await openApplication(io);
  try {
    io.stdout.write(`${JSON.stringify(await runClientCommand(app.container, command, options))}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    io.stderr.write(`${refusal(error)}\n`);
    return error.code === 'VALIDATION_ERROR' ? 2 : 1;
  } finally {
    await app.close();
  }
}

/**
 * The option each refused field came from: the password of create-admin is read from stdin (there is no --password).
 */
const FIELD_SOURCE: Readonly<Record<string, string>> = { password: 'the password from --password-stdin' };

/** One line: the error's message and, per field, its reasons (`--email must be an email address`). */
function refusal(error: DomainError): string {
  const details = Object.entries(error.details ?? {}).map(([field, messages]) => ` (${FIELD_SOURCE[field] ?? `--${field}`} ${messages.join(', ')})`).join('');
  return `${error.message}${details}`;
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
