import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SERIAL_SUITES, TIMING_SUITES, DEADLINE_SUITES, SERIAL_MARKERS, TIMING_MARKERS } = require('../support/serial-suites.cjs') as {
  SERIAL_SUITES: string[];
  TIMING_SUITES: string[];
  DEADLINE_SUITES: string[];
  SERIAL_MARKERS: RegExp;
  TIMING_MARKERS: RegExp;
};

const ROOT = resolve(__dirname, '../..');

function suites(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return suites(path);
    return name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

/**
 * `npm test` runs most suites on three workers, then the deadline group of tests/support/serial-suites.cjs two at a
 * time, then its timing group one at a time.
 */
describe('test groups', () => {
  const all = suites(join(ROOT, 'tests'));
  const marked = (markers: RegExp) => all.filter((file) => file !== 'tests/unit/test-groups.test.ts' && markers.test(readFileSync(join(ROOT, file), 'utf8')));

  it('every suite that measures time, or starts Redis servers of its own, runs in one of the two serial groups', () => {
    expect(marked(SERIAL_MARKERS).filter((file) => !SERIAL_SUITES.includes(file))).toEqual([]);
  });

  it('every suite that measures time runs in the timing group, with nothing beside it', () => {
    expect(marked(TIMING_MARKERS).length).toBeGreaterThan(0);
    expect(marked(TIMING_MARKERS).filter((file) => !TIMING_SUITES.includes(file))).toEqual([]);
  });

  it('no suite is in both groups', () => {
    expect(TIMING_SUITES.filter((file) => DEADLINE_SUITES.includes(file))).toEqual([]);
    expect(SERIAL_SUITES).toHaveLength(TIMING_SUITES.length + DEADLINE_SUITES.length);
  });

  it('the serial groups name existing suites only', () => {
    expect(SERIAL_SUITES.filter((file) => !all.includes(file))).toEqual([]);
  });
});
