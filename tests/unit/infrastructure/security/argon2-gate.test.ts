import { Argon2PasswordHasher, Gate } from '@infrastructure/security/argon2/argon2-password-hasher';

/** ARGON2_CONCURRENCY: at most `limit` jobs run at once; the others wait in the order they came. */
describe('the argon2 gate', () => {
  function manualJob(log: string[], name: string, running: { now: number; max: number }) {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const job = async () => {
      running.now += 1;
      running.max = Math.max(running.max, running.now);
      log.push(`start ${name}`);
      await done;
      running.now -= 1;
      return name;
    };
    return { job, finish };
  }

  const flush = () => new Promise((resolve) => setImmediate(resolve));

  it.each([1, 2, 3])('runs at most %i job(s) at once and starts the waiting ones in order', async (limit) => {
    const gate = new Gate(limit);
    const log: string[] = [];
    const running = { now: 0, max: 0 };
    const jobs = Array.from({ length: 6 }, (_, i) => manualJob(log, `j${i}`, running));
    const results = jobs.map(({ job }) => gate.run(job));
    await flush();
    expect(log).toEqual(jobs.slice(0, limit).map((_, i) => `start j${i}`));
    for (const { finish } of jobs) {
      finish();
      await flush();
    }
    await expect(Promise.all(results)).resolves.toEqual(jobs.map((_, i) => `j${i}`));
    expect(running.max).toBe(limit);
    expect(log).toEqual(jobs.map((_, i) => `start j${i}`));
  });

  it('a failing job frees its slot', async () => {
    const gate = new Gate(1);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
  });

  it('the hasher with a concurrency of 1 still hashes and verifies in parallel calls', async () => {
    const hasher = new Argon2PasswordHasher({ concurrency: 1 });
    const hashes = await Promise.all(['a password one', 'a password two', 'a password three'].map((p) => hasher.hash(p)));
    await expect(Promise.all(hashes.map((hash, i) => hasher.verify(hash, ['a password one', 'a password two', 'a password three'][i]!)))).resolves.toEqual([true, true, true]);
    await expect(hasher.verify(hashes[0]!, 'a password two')).resolves.toBe(false);
  });
});
