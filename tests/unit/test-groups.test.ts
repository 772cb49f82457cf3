import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SERIAL_SUITES, SERIAL_MARKERS } = require('../support/serial-suites.cjs') as { SERIAL_SUITES: string[]; SERIAL_MARKERS: RegExp };

const ROOT = resolve(__dirname, '../..');

function suites(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return suites(path);
    return name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

/** `npm test` runs most suites on three workers and the ones in tests/support/serial-suites.cjs one at a time. */
describe('test groups', () => {
  const all = suites(join(ROOT, 'tests'));

  it('every suite that measures time, or starts Redis servers of its own, runs in the serial group', () => {
    const missing = all.filter((file) => file !== 'tests/unit/test-groups.test.ts' && SERIAL_MARKERS.test(readFileSync(join(ROOT, file), 'utf8')) && !SERIAL_SUITES.includes(file));
    expect(missing).toEqual([]);
  });

  it('the serial group names existing suites only', () => {
    expect(SERIAL_SUITES.filter((file) => !all.includes(file))).toEqual([]);
  });
});
