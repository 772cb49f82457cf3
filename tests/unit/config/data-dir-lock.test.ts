import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir, processOnThisHost, type LockOwner } from '../../../src/config/data-dir-lock';

/**
 * The embedded data directory's lock (two PGlite processes on the same files corrupt them). Until stop 47 it held
 * the pid alone: a lock whose pid had been reused by another process (a restarted container) was never taken over,
 * and one from another container on a shared volume (pid 1 too) always was (an outside review).
 */
describe('lockDataDir', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  const lockFile = () => join(dir, 'embedded.lock');
  const writeLock = (owner: LockOwner | string, ageMs = 0) => {
    writeFileSync(lockFile(), typeof owner === 'string' ? owner : JSON.stringify(owner));
    const at = new Date(Date.now() - ageMs);
    utimesSync(lockFile(), at, at);
  };
  const holder = () => JSON.parse(readFileSync(lockFile(), 'utf8')) as LockOwner;
  /** A live process of this host (not this one). */
  const liveProcess = async (): Promise<ChildProcess & { pid: number }> => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    return child as ChildProcess & { pid: number };
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'data-dir-lock-'));
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes a free directory, names this process, and releases it', () => {
    const unlock = lockDataDir(dir);
    expect(holder()).toEqual(processOnThisHost(process.pid));
    unlock();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('refuses a directory a live process of this host holds, in the old format (pid alone) as well', async () => {
    const child = await liveProcess();
    writeLock(processOnThisHost(child.pid));
    expect(() => lockDataDir(dir)).toThrow(`DATA_DIR ${dir} is in use by process ${child.pid} (embedded PostgreSQL allows one process)`);
    writeLock(String(child.pid));
    expect(() => lockDataDir(dir)).toThrow(`is in use by process ${child.pid}`);
  });

  it('takes over a lock whose process is gone, and one whose pid now belongs to another process (started later)', async () => {
    const child = await liveProcess();
    const dead = processOnThisHost(child.pid);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    writeLock(dead);
    lockDataDir(dir)();

    // The pid is alive, but it is not the process that wrote the lock: its start time differs.
    const other = await liveProcess();
    writeLock({ ...processOnThisHost(other.pid), start: String(Number(processOnThisHost(other.pid).start) - 100) });
    const unlock = lockDataDir(dir);
    expect(holder().pid).toBe(process.pid);
    unlock();

    // This process's own pid, written by an earlier process (a restarted container's pid 1): taken over.
    writeLock(String(process.pid));
    lockDataDir(dir)();
  });

  it("another host's lock (a container on a shared volume): refused while its holder keeps it fresh, taken once stale", () => {
    const elsewhere: LockOwner = { pid: process.pid, host: 'another-container', boot: 'another-boot', start: '1' };
    writeLock(elsewhere, 5_000);
    expect(() => lockDataDir(dir, { staleAfterMs: 30_000 })).toThrow(`DATA_DIR ${dir} is in use by process ${process.pid} on host another-container`);
    expect(holder()).toEqual(elsewhere);
    writeLock(elsewhere, 31_000);
    const unlock = lockDataDir(dir, { staleAfterMs: 30_000 });
    expect(holder().host).not.toBe('another-container');
    unlock();
  });

  it('the holder keeps its lock fresh; releasing leaves a lock someone else took over meanwhile', async () => {
    const unlock = lockDataDir(dir, { heartbeatMs: 20 });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(), old, old);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(Date.now() - statSync(lockFile()).mtimeMs).toBeLessThan(5_000);

    const successor: LockOwner = { pid: 424242, host: 'another-container', boot: 'b', start: '9' };
    writeLock(successor);
    unlock();
    expect(holder()).toEqual(successor);
  });

  it('a lock file that cannot be read: being written now (refused), or left so long ago (taken over)', () => {
    writeLock('');
    expect(() => lockDataDir(dir)).toThrow(`DATA_DIR ${dir} is being locked by another process`);
    writeLock('{"pid":', 60_000);
    lockDataDir(dir)();
  });
});
