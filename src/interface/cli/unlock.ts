import { UnlockAccountByOperator } from '@application/admin/unlock-account-by-operator';
import { PORTS } from '@application/ports/tokens';
import type { Application } from '@config/application';
import { Email } from '@domain/user/email';
import { shownArgument } from './cli-io';

/** `unlock --email E` (or `--email=E`): the address, or why the arguments are refused (usage, exit 2). */
export function parseUnlock(args: readonly string[]): { email: string } | string {
  let email: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const isEmail = arg === '--email' || arg.startsWith('--email=');
    if (isEmail && email !== undefined) return '--email given more than once';
    if (arg === '--email' && (args[i + 1] === undefined || args[i + 1]!.startsWith('--'))) return '--email needs a value';
    if (arg === '--email') email = args[(i += 1)];
    else if (arg.startsWith('--email=')) email = arg.slice('--email='.length);
    else return `unexpected ${shownArgument(arg, i + 1)}`;
  }
  if (email === undefined || email === '') return 'unlock needs --email';
  if (Email.parse(email) === null) return `--email: not a valid email address: ${JSON.stringify(email)}`;
  return { email };
}

/**
 * Unlocks the account: the one JSON object the command prints. Refused (exit 1) without REDIS_URL: the service then
 * keeps its lockout in its own memory, which no other process reaches (until a review of stop 49 the command said
 * `unlocked` and the account stayed locked); and when Redis did not take the clear (the lockout's fallback owes it
 * to Redis in this process's memory, which ends with the command).
 */
export async function unlock(app: Application, email: string): Promise<Record<string, unknown>> {
  if (app.config.redisUrl === null) {
    throw new Error(
      'unlock needs the service\'s REDIS_URL (and REDIS_KEY_PREFIX): without Redis the service keeps its lockout in its own memory, which only its restart (or the lock\'s end) clears',
    );
  }
  const user = await app.container.get(UnlockAccountByOperator).execute({ email });
  const owed = [PORTS.LoginLockout, PORTS.MfaLockoutStore].some((port) => {
    const store: unknown = app.container.get(port);
    const count = typeof store === 'object' && store !== null && 'owedClears' in store ? store.owedClears : 0;
    return typeof count === 'number' && count > 0;
  });
  if (owed) throw new Error('unlock: the recorded lock was lifted, but Redis did not take the clear of the lockout: run the command again once Redis answers');
  return { user_id: user.id, email: user.email, unlocked: true };
}
