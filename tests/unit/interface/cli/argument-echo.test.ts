import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClientOptions } from '@interface/cli/client-commands';
import { shownArgument } from '@interface/cli/cli-io';
import { parseCreateAdmin } from '@interface/cli/create-admin';
import { parseUnlock } from '@interface/cli/unlock';
import { parseWithdrawKey } from '@interface/cli/withdraw-key';
import { cliInProcess } from '../../../support/cli-in-process';

/**
 * A value typed in the wrong place may be a password or a secret: the CLI's refusals name an argument by its place
 * and length, never its text (a review of stop 62: `create-admin --email a@b.test --password-stdin S3cret...`
 * printed the password on stderr, and `rotate-client-secret --id <secret>` its first 40 characters).
 */
const SECRET = 'S3cret-passphrase-nobody-should-see';

function refusal(attempt: () => unknown): string {
  try {
    const result = attempt();
    if (typeof result === 'string') return result;
  } catch (error) {
    return String(error);
  }
  throw new Error('not refused');
}

describe('CLI refusals never repeat a stray value', () => {
  it.each([
    ['create-admin', () => parseCreateAdmin(['--email', 'a@example.com', '--password-stdin', SECRET]), 'unexpected argument 4 (35 characters, not shown)'],
    ['unlock', () => parseUnlock(['--email', 'a@example.com', SECRET]), 'unexpected argument 3 (35 characters, not shown)'],
    ['withdraw-key', () => parseWithdrawKey(['--kid', 'k1', SECRET]), 'unexpected argument 3 (35 characters, not shown)'],
    ['rotate-client-secret, stray value', () => parseClientOptions('rotate-client-secret', ['--id', '4b0c2e9a-1d2f-4c3b-8a5e-6f7a8b9c0d1e', SECRET]), 'unexpected argument 3 (35 characters, not shown)'],
    ['rotate-client-secret, secret as --id', () => parseClientOptions('rotate-client-secret', ['--id', SECRET]), '--id must be a client id (a UUID); the value given (35 characters) is not shown'],
    ['create-client, a value after two dashes', () => parseClientOptions('create-client', ['--name', `--${SECRET}`]), '--name needs a value, not the option argument 2 (37 characters, not shown)'],
  ])('%s', (_name, attempt, message) => {
    const said = refusal(attempt);
    expect(said).toContain(message);
    expect(said).not.toContain('passphrase');
  });

  it('an option given without its value says so', () => {
    expect(parseCreateAdmin(['--email'])).toBe('--email needs a value');
    expect(parseCreateAdmin(['--email', '--password-stdin'])).toBe('--email needs a value');
    expect(parseUnlock(['--email'])).toBe('--email needs a value');
    expect(parseWithdrawKey(['--kid'])).toBe('--kid needs a value');
  });

  it('shownArgument: an option by its name, a command word as typed, anything else by place and length', () => {
    expect(shownArgument('--force', 2)).toBe('--force');
    expect(shownArgument('--email=a@example.com', 1)).toBe('--email=...');
    expect(shownArgument('hunter2', 3)).toBe('argument 3 (7 characters, not shown)');
    expect(shownArgument('--', 1)).toBe('argument 1 (2 characters, not shown)');
    expect(shownArgument('--Secret', 1)).toBe('argument 1 (8 characters, not shown)');
    expect(shownArgument('ünïcode', 1)).toBe('argument 1 (7 characters, not shown)');
    expect(shownArgument('rotate-kyes', 0, 'command')).toBe('rotate-kyes');
    expect(shownArgument('Reseal', 0, 'command')).toBe('a word of 6 characters (not shown)'); // a command is lower-case; a password may not be
    expect(shownArgument(SECRET, 0, 'command')).toBe('a word of 35 characters (not shown)');
  });

  it('the whole CLI: an unknown command, an argument after one that takes none, and migrate, exit 2 without the value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-cli-echo-'));
    try {
      const env = { DATA_DIR: dir };
      for (const args of [[SECRET], ['purge-expired', SECRET], ['rotate-keys', '--force', SECRET]]) {
        const run = await cliInProcess(args, env);
        expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(run.stderr).toMatch(/not shown/);
        expect(run.stderr).not.toContain(SECRET);
      }
      const migrate = await cliInProcess([SECRET], env, 'migrate');
      expect(migrate.code).toBe(2);
      expect(migrate.stderr).toMatch(/^unexpected argument 1 \(35 characters, not shown\)\n/);
      expect(migrate.stderr).not.toContain(SECRET);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
