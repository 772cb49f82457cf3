import { Readable } from 'node:stream';
import { runAdminCli } from '@interface/cli/admin-cli';
import { runMigrate } from '@interface/cli/migrate-command';
import type { CliRun } from './cli';

/**
 * `npm run cli -- <args>` (or `npm run migrate`) in this process: the same function the entry point runs, with
 * nothing of the test's environment but `env` (and the defaults a spawned CLI gets: development, silent logs),
 * `stdin` as its standard input (a string as UTF-8, a Buffer as its bytes) and stdout/stderr captured. One suite
 * (tests/e2e/cli-process.test.ts) runs the real entry points as child processes: exit codes, streams and stdin
 * through a pipe.
 */
export async function cliInProcess(args: string[], env: Record<string, string>, script: 'cli' | 'migrate' = 'cli', stdin: string | Buffer = ''): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io = {
    env: { NODE_ENV: 'development', LOG_LEVEL: 'silent', ...env },
    stdin: Readable.from([Buffer.from(stdin)]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  };
  const code = await (script === 'cli' ? runAdminCli(args, io) : runMigrate(args, io));
  return { code, stdout, stderr };
}
