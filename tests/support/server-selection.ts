import { execFileSync } from 'node:child_process';

/**
 * Whether a suite that needs a real server runs: decided synchronously, so that describe.each can choose at
 * collection time. A child process runs `probe` (JS that exits 0 when the server answers, with the URL in
 * PROBE_URL). In CI the server is always selected, so an unreachable one fails its suites instead of vanishing;
 * elsewhere its cases are left out with a warning.
 */
export function selectRealServer(name: string, url: string, probe: string): boolean {
  try {
    execFileSync(process.execPath, ['-e', probe], { env: { ...process.env, PROBE_URL: url }, stdio: 'ignore', timeout: 10000 });
    return true;
  } catch {
    if (process.env.CI === 'true') return true;
    const shown = url.replace(/\/\/[^@]*@/, '//***@');
    process.stderr.write(`[tests] ${name} at ${shown} is unreachable: its cases are left out (CI=true fails instead)\n`);
    return false;
  }
}
