import { UnlockAccountByOperator } from '@application/admin/unlock-account-by-operator';
import { Email } from '@domain/user/email';
import type { Container } from 'inversify';

/** `unlock --email E` (or `--email=E`): the address, or why the arguments are refused (usage, exit 2). */
export function parseUnlock(args: readonly string[]): { email: string } | string {
  let email: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const isEmail = arg === '--email' || arg.startsWith('--email=');
    if (isEmail && email !== undefined) return '--email given more than once';
    if (arg === '--email' && args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) email = args[(i += 1)];
    else if (arg.startsWith('--email=')) email = arg.slice('--email='.length);
    else return `unexpected argument: ${arg}`;
  }
  if (email === undefined || email === '') return 'unlock needs --email';
  if (Email.parse(email) === null) return `--email: not a valid email address: ${JSON.stringify(email)}`;
  return { email };
}

/** Unlocks the account: the one JSON object the command prints. */
export async function unlock(container: Container, email: string): Promise<Record<string, unknown>> {
  const user = await container.get(UnlockAccountByOperator).execute({ email });
  return { user_id: user.id, email: user.email, unlocked: true };
}
