import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Whether the browser suites run. In CI Chromium is always selected, so a missing one fails its suite (launch
 * error) instead of vanishing (.ci/run installs it); elsewhere its cases are left out with a warning.
 */
export function selectChromium(): boolean {
  if (existsSync(CHROMIUM_PATH) || process.env.CI === 'true') return true;
  process.stderr.write(`[tests] ${CHROMIUM_PATH} is missing: the browser cases are left out (apt-get install chromium; CI=true fails instead)\n`);
  return false;
}

/** No GPU, no QUIC, no background traffic of the browser's own: the only requests are the page's. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
