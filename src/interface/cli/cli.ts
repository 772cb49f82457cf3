import 'reflect-metadata';
import { createApplication } from '@config/application';
import { ConfigError, loadConfig } from '@config/env';
import { purgeExpired } from '@config/maintenance';
import { DomainError } from '@domain/shared/domain-error';
import { CLIENT_USAGE, isClientCommand, parseClientOptions, runClientCommand, UsageError } from './client-commands';
import { createAdmin, parseCreateAdmin } from './create-admin';

const USAGE = `usage: npm run cli -- <command>

  create-admin --email E [--password-stdin]
                  create an active, verified admin (password read from stdin, else generated and printed once),
                  or add the admin role to the existing account with this address
  rotate-keys     promote the pre-published next signing key, retire the active one, publish a new next key
  purge-expired   delete expired sessions and one-time tokens, published outbox rows, sent and failed emails and
                  processed-event records past retention (in batches of 5,000, skipping rows in use), expired keys
${CLIENT_USAGE}`;

/**
 * Log lines to stderr (stdout carries the one JSON object); no query deadline: purge-expired's batches may rightly
 * run longer than DATABASE_QUERY_TIMEOUT, and an operator watches the command.
 */
const CLI_OPTIONS = { logToStderr: true, queryDeadline: false };

/** The admin CLI: runs one command against the configured database, through the composition root. */
async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (isClientCommand(command)) return clientCommand(command, argv.slice(1));
  if (command === 'create-admin') {
    const options = parseCreateAdmin(argv.slice(1));
    if (typeof options === 'string') {
      process.stderr.write(`${options}\n\n${USAGE}`);
      return 2;
    }
    const app = await createApplication(loadConfig(), CLI_OPTIONS);
    try {
      process.stdout.write(`${JSON.stringify(await createAdmin(app, options))}\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // A malformed address is a bad argument (usage, exit 2); a password the policy refuses says why.
      if (error.code === 'VALIDATION_ERROR') {
        process.stderr.write(`${refusal(error)}\n\n${USAGE}`);
        return 2;
      }
      process.stderr.write(`${refusal(error)}\n`);
      return 1;
    } finally {
      await app.close();
    }
  }
  if (command !== 'rotate-keys' && command !== 'purge-expired') {
    process.stderr.write(command ? `unknown command: ${command}\n\n${USAGE}` : USAGE);
    return 2;
  }
  // These two take no argument: anything after them (a `--dry-run`, a typo) is refused before they act, not ignored.
  if (argv.length > 1) {
    process.stderr.write(`${command} takes no arguments: unexpected ${argv[1]}\n\n${USAGE}`);
    return 2;
  }
  const app = await createApplication(loadConfig(), CLI_OPTIONS);
  try {
    if (command === 'rotate-keys') {
      await app.infra.keys.rotate();
      // CONTRACT §8: one JSON object, the kids now published (the active key, the next one, retired ones still in use).
      const kids = app.infra.keys.jwks().keys.map((k) => k.kid);
      process.stdout.write(`${JSON.stringify({ published_kids: kids })}\n`);
    } else {
      const counts = await purgeExpired(app.infra);
      process.stdout.write(`${JSON.stringify(counts)}\n`);
    }
    return 0;
  } finally {
    await app.close();
  }
}

/** The client commands (CONTRACT §8): one JSON object on stdout; bad arguments exit 2, other failures 1. */
async function clientCommand(command: Parameters<typeof runClientCommand>[1], args: string[]): Promise<number> {
  let options: Record<string, string>;
  try {
    options = parseClientOptions(command, args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  const app = await createApplication(loadConfig(), CLI_OPTIONS);
  try {
    process.stdout.write(`${JSON.stringify(await runClientCommand(app.container, command, options))}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    process.stderr.write(`${refusal(error)}\n`);
    return error.code === 'VALIDATION_ERROR' ? 2 : 1;
  } finally {
    await app.close();
  }
}

/** One line: the error's message and, per field, its reasons (`--email must be an email address`). */
function refusal(error: DomainError): string {
  const details = Object.entries(error.details ?? {}).map(([field, messages]) => ` (--${field} ${messages.join(', ')})`).join('');
  return `${error.message}${details}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `cli failed: ${String(error)}`}\n`);
    process.exit(1);
  },
);
