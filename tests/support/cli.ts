import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run cli -- <args>` as the build runs it, but from the sources (SWC hook, no build), with nothing of the
 * test's environment: `env` only (e.g. the DATABASE_URL and ENCRYPTION_KEY of a running service). `script`
 * 'migrate' runs `npm run migrate` the same way.
 */
export function runCli(args: string[], env: Record<string, string>, script: 'cli' | 'migrate' = 'cli', stdin: string | Buffer = ''): Promise<CliRun> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['-r', join(ROOT, 'tests/support/swc-register.cjs'), join(ROOT, `src/interface/cli/${script}.ts`), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', LOG_LEVEL: 'silent', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}
