import type { Application } from '@config/application';
import type { Withdrawal } from '@infrastructure/security/jose/signing-key-manager';
import { shownArgument, type CliIo } from './cli-io';

/**
 * A kid as this service makes them: the key's RFC 7638 thumbprint, base64url (a row under any other kid is never
 * published: importCheckedPublicKey). Anything else is a typo, refused as a bad argument before the database opens.
 */
const KID = /^[A-Za-z0-9_-]{1,128}$/;

/** `withdraw-key --kid K` (or `--kid=K`): the kid, or why the arguments are refused (usage, exit 2). */
export function parseWithdrawKey(args: readonly string[]): { kid: string } | string {
  let kid: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const isKid = arg === '--kid' || arg.startsWith('--kid=');
    if (isKid && kid !== undefined) return '--kid given more than once';
    if (arg === '--kid' && (args[i + 1] === undefined || args[i + 1]!.startsWith('--'))) return '--kid needs a value';
    if (arg === '--kid') kid = args[(i += 1)];
    else if (arg.startsWith('--kid=')) kid = arg.slice('--kid='.length);
    else return `unexpected ${shownArgument(arg, i + 1)}`;
  }
  if (kid === undefined || kid === '') return 'withdraw-key needs --kid';
  if (!KID.test(kid)) return `--kid: not a key id this service makes (base64url, at most 128 characters): ${JSON.stringify(kid)}`;
  return { kid };
}

/**
 * Deletes the retired signing key `kid` at once (SigningKeyManager.withdraw): the emergency step after a leak, run
 * right after `rotate-keys --force` (docs/key-rotation.md). Prints `{"kid":…,"withdrawn":true}`, exit 0; the active
 * key, a next key and an unknown kid are refused on one line of stderr, exit 1, nothing written. Audited
 * `signing_key.withdrawn` (reason `cli kid=<kid>`) in the transaction that deletes the key, as rotate-keys is
 * `signing_key.rotated` (since stop 60; before, only the command's own output told of either).
 */
export async function withdrawKey(app: Application, kid: string, io: CliIo): Promise<number> {
  const withdrawal = await app.infra.keys.withdraw(kid);
  if (withdrawal === 'withdrawn') {
    io.stdout.write(`${JSON.stringify({ kid, withdrawn: true })}\n`);
    return 0;
  }
  io.stderr.write(`withdraw-key: ${REFUSALS[withdrawal](kid)}\n`);
  return 1;
}

const REFUSALS: Readonly<Record<Exclude<Withdrawal, 'withdrawn'>, (kid: string) => string>> = {
  active: (kid) =>
    `${kid} is the active signing key, which every instance signs with: run rotate-keys --force first (it retires the key), then withdraw-key --kid ${kid}`,
  next: (kid) =>
    `${kid} is the next signing key (published, not signing yet): rotate-keys --force twice retires it (the first promotes it, the second retires it), then withdraw-key --kid ${kid}`,
  unknown: (kid) => `no signing key ${kid} is stored (withdrawn or pruned already, or never this service's)`,
};
