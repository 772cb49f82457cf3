import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '../../..');
const run = promisify(execFile);

/**
 * CONTRACT §8: `npm run cli -- <command>` prints one JSON object on stdout on success, and one line on stderr on
 * failure. npm prints its run-script banner ("> auth-service@0.1.0 cli" and the command line) on stdout before the
 * script's output (an outside review, 2026-12-02, found `| jq` failing on the one output that carries a secret shown
 * once), and after a failing script its own error lines; in JSON mode (this project's setting until 2026-12-03)
 * the banner went to stderr but a failure put npm's error object on stdout, which `| jq -r .client_secret` read as
 * `null` (an outside review, 2026-12-03). The project's .npmrc makes npm silent. Run here as in the image: the
 * package's scripts and .npmrc, a built CLI (a stand-in that prints its arguments as JSON, or fails with one line
 * when asked) and no src/, so the script runs it without building.
 */
describe('npm run cli / migrate, as in the image', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'auth-npm-cli-'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; scripts: Record<string, string> };
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, scripts: { cli: pkg.scripts.cli, migrate: pkg.scripts.migrate } }));
    copyFileSync(join(ROOT, '.npmrc'), join(dir, '.npmrc'));
    mkdirSync(join(dir, 'dist/src/interface/cli'), { recursive: true });
    for (const name of ['cli', 'migrate']) {
      writeFileSync(
        join(dir, `dist/src/interface/cli/${name}.js`),
        `if (process.argv.includes('--fail')) { process.stderr.write('No such client.\\n'); process.exit(1); }\n` +
          `process.stdout.write(JSON.stringify({ ${name}: process.argv.slice(2) }) + '\\n');\n`,
      );
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['cli', 'migrate'])('npm run %s: stdout is the command\'s own output alone, no npm banner, no build without sources', async (script) => {
    const { stdout, stderr } = await run('npm', ['run', script, '--', 'list-clients', '--id', 'x'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } });
    expect(stdout).toBe(`${JSON.stringify({ [script]: ['list-clients', '--id', 'x'] })}\n`);
    expect(stderr).toBe('');
  }, 30_000);

  it.each(['cli', 'migrate'])('npm run %s that fails: nothing on stdout, its one line alone on stderr, its exit code', async (script) => {
    const failed = await run('npm', ['run', script, '--', 'delete-client', '--fail'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } }).then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1, stdout: '', stderr: 'No such client.\n' });
  }, 30_000);
});
