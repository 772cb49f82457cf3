import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const OATHTOOL = '/usr/bin/oathtool';

/**
 * The RFC 6238 code of `secret` (base32) at `at`, computed by oathtool (Debian's oath-toolkit): an implementation
 * independent of the service's, as an authenticator app would be. .ci/run installs it; missing, tests fail.
 */
export function oathtool(secretBase32: string, at: Date): string {
  if (!existsSync(OATHTOOL)) throw new Error('oathtool is missing: apt-get install oathtool (.ci/run installs it)');
  const now = `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return execFileSync(OATHTOOL, ['--totp', '--base32', '--digits=6', '--time-step-size=30s', `--now=${now}`, secretBase32], { encoding: 'utf8' }).trim();
}

/** A time in the middle of a 30 s step (15 s in), so that T-1, T and T+1 are unambiguous around it. */
export function midStep(from: Date = new Date()): Date {
  const step = Math.floor(from.getTime() / 30_000);
  return new Date(step * 30_000 + 15_000);
}

export const STEP_MS = 30_000;

/**
 * For tests on the real clock: returns once the current 30 s step has at least `marginMs` left, so that a code
 * computed now is still of the same step when the service checks it (waits at most `marginMs`).
 */
export async function awayFromStepEdge(marginMs = 3_000): Promise<void> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 200));
}
