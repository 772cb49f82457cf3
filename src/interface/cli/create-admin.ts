import { randomBytes } from 'node:crypto';
import { CreateAdmin } from '@application/admin/create-admin';
import type { Application } from '@config/application';
import { Errors } from '@application/shared/errors';
import { Email } from '@domain/user/email';
import { NOT_TEXT } from '@interface/not-text';
import { shownArgument, type CliIo } from './cli-io';

export interface CreateAdminOptions {
  email: string;
  passwordFromStdin: boolean;
  /** The password read from stdin by readCreateAdminStdin, before the database is opened. */
  suppliedPassword?: string;
}

/**
 * With --password-stdin, the password read and checked before the database is opened (since a review of stop 60): a
 * refused stdin (not UTF-8, a NUL: usage, exit 2; a line break: exit 1) then leaves the data directory untouched, as a
 * bad argument does, and the embedded database's lock is not held while a terminal waits for the typing.
 */
export async function readCreateAdminStdin(options: CreateAdminOptions, stdin: CliIo['stdin']): Promise<CreateAdminOptions> {
  return options.passwordFromStdin ? { ...options, suppliedPassword: await readStdin(stdin) } : options;
}

/** `--email E [--password-stdin]`; a string is the reason the arguments are refused (usage, exit 2). */
export function parseCreateAdmin(args: readonly string[]): CreateAdminOptions | string {
  let email: string | undefined;
  let passwordFromStdin = false;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    const isEmail = arg === '--email' || arg?.startsWith('--email=') === true;
    // Given twice, which one was meant? Refused, as the client commands refuse a repeated option.
    if (isEmail && email !== undefined) return '--email given more than once';
    if (arg === '--email' && (args[i + 1] === undefined || args[i + 1]!.startsWith('--'))) return '--email needs a value';
    if (arg === '--email') email = args[(i += 1)];
    else if (arg?.startsWith('--email=')) email = arg.slice('--email='.length);
    else if (arg === '--password-stdin') {
      if (passwordFromStdin) return '--password-stdin given more than once';
      passwordFromStdin = true;
    }
    else if (arg === '--password' || arg?.startsWith('--password=')) return 'passwords are never taken as arguments (they show in ps): use --password-stdin';
    else return `unexpected ${shownArgument(arg, i + 1)}`;
  }
  if (email === undefined || email === '') return 'create-admin needs --email';
  // Refused here, before the database is opened, as every other bad argument is (the use case checks it again).
  if (Email.parse(email) === null) return `--email: not a valid email address: ${JSON.stringify(email)}`;
  return { email, passwordFromStdin };
}

/**
 * The whole of stdin, without the one trailing newline a pipe or `echo` adds. A line break left after that is refused
 * (exit 1): a heredoc or a file ending in a blank line (or CRLF twice) used to store the password with a `\n` on the
 * end, and the admin could not sign in with what was typed (a review of stop 50's CLI; an HTTP client's password is
 * taken as sent).
 *
 * Read as UTF-8 strictly, and held to what HTTP takes (an outside review, 2026-12-07): decoded leniently, UTF-16
 * input (PowerShell's pipe, Notepad's "Unicode") was stored with its NULs and Latin-1 `pässwort` as `p\uFFFDsswort`,
 * passwords that login, which refuses NUL (NOT_TEXT) and malformed UTF-8, could never be given; and a file's byte
 * order mark was kept as a first character nobody types. Now invalid UTF-8 and what HTTP's NOT_TEXT refuses are
 * bad input (VALIDATION_ERROR, as HTTP answers them: usage, exit 2), and a leading BOM is dropped (TextDecoder's
 * default), as the encoding's mark rather than part of the password.
 */
async function readStdin(stdin: CliIo['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw Errors.validation('password', 'is not valid UTF-8: give it as UTF-8, not UTF-16 or Latin-1');
  }
  const password = text.replace(/\r?\n$/, '');
  // After strict decoding only a NUL can match (UTF-8 cannot encode a lone surrogate): the rule is HTTP's all the same.
  if (NOT_TEXT.test(password)) throw Errors.validation('password', 'holds a NUL character: give it as UTF-8, not UTF-16');
  if (/[\r\n]/.test(password)) throw Errors.weakPassword(['holds a line break: give it as one line (one newline at its end is dropped)']);
  return password;
}

/**
 * 144 bits from the CSPRNG, base64url: 24 characters the password policy accepts, or as many as PASSWORD_MIN_LENGTH
 * asks when that is more (up to its 128; until a review of stop 60 always 24, so with PASSWORD_MIN_LENGTH over 24 the
 * command exited 1, blaming a --password-stdin never given), drawn again while they hold the address's local part (3
 * characters or more, case-folded), which the policy refuses. Until a review of stop 50 about one run in 1,700 for a
 * 3-letter local part (`ops@`) exited 1.
 */
export function generatedPassword(email: string, minLength = 24, bytes: (size: number) => Buffer = randomBytes): string {
  const local = Email.create(email).localPart;
  const size = Math.max(18, Math.ceil((minLength * 3) / 4));
  for (;;) {
    const password = bytes(size).toString('base64url');
    if (local.length < 3 || !Email.canonicalize(password).includes(local)) return password;
  }
}

/** CONTRACT §8: `{user_id, email, roles, password?}`; the password only when generated for a new account. */
export async function createAdmin(app: Application, options: CreateAdminOptions, io: Pick<CliIo, 'stdin' | 'stderr' | 'env'>): Promise<Record<string, unknown>> {
  const supplied = options.passwordFromStdin ? (options.suppliedPassword ?? (await readStdin(io.stdin))) : null;
  const password = supplied ?? generatedPassword(options.email, app.config.passwordMinLength);
  // Against the service's database (DATABASE_URL) without its APP_PUBLIC_URL, a mailed link would point at this
  // command's default, localhost: the use case refuses the one case that mails one. Embedded mode's default is right.
  const linkBaseKnown = !io.env.DATABASE_URL?.trim() || Boolean(io.env.APP_PUBLIC_URL?.trim());
  const { user, created, passwordDiscarded } = await app.container.get(CreateAdmin).execute({ email: options.email, password, linkBaseKnown });
  // An existing account is promoted as it is: say so when it cannot sign in yet (stderr: stdout stays the JSON).
  if (!created && user.status !== 'active') {
    const why = user.status === 'suspended' ? 'suspended: reinstate it (PATCH /api/v1/admin/users/:id)' : `${user.status}: it signs in once its address is verified or its invitation redeemed`;
    io.stderr.write(`note: the account is ${why}\n`);
  }
  if (passwordDiscarded) {
    io.stderr.write('note: the address was never verified, so the password the account was registered with was discarded (whoever chose it may not own the address): a link to choose one, which also verifies the address, was mailed to it\n');
  } else if (!created && user.credentials.passwordHash === null) {
    io.stderr.write('note: the account has no password yet (an invitation): it sets one through the reset link\n');
  }
  if (!created && supplied !== null) io.stderr.write('note: --password-stdin sets the password of a new account only: it was not used\n');
  const out: Record<string, unknown> = { user_id: user.id, email: user.email, roles: [...user.roles] };
  if (created && supplied === null) out['password'] = password;
  return out;
}
