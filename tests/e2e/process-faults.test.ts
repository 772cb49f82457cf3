import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/**
 * The service process with a preloaded fault: `fault` runs 1.5 s after start, inside the process. Resolves with the
 * exit code and what the process wrote, once it exits (or rejects after 30 s).
 */
function runWithFault(fault: string): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'auth-fault-'));
  const preload = join(dir, 'fault.cjs');
  writeFileSync(preload, `setTimeout(() => { ${fault} }, 1500);\n`);
  const child = spawn(process.execPath, ['-r', join(ROOT, 'tests/support/swc-register.cjs'), '-r', preload, join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((done, fail) => {
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`the process did not exit within 30 s:\n${output}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(guard);
      rmSync(dir, { recursive: true, force: true });
      done({ code, output });
    });
  });
}

/** The JSON lines of the output that parse, as objects. */
function jsonLines(output: string): Record<string, unknown>[] {
  return output.split('\n').flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

describe('a fault nothing handles, in the service process', () => {
  it.each([
    ['an unhandled promise rejection', "Promise.reject(new Error('boom-unhandled-rejection'));", 'unhandled promise rejection: exiting', 'boom-unhandled-rejection'],
    ['an uncaught exception', "throw new Error('boom-uncaught-exception');", 'uncaught exception: exiting', 'boom-uncaught-exception'],
  ])('%s: one JSON log line names it, then the process exits 1', async (_kind, fault, message, reason) => {
    const { code, output } = await runWithFault(fault);
    expect(code).toBe(1);
    const fatal = jsonLines(output).filter((line) => line.fatal === true);
    expect(fatal).toEqual([expect.objectContaining({ level: 'error', msg: message, service: 'auth-service', err: expect.objectContaining({ message: reason }) })]);
  }, 40_000);
});
