import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Who holds the lock: enough to tell the process apart from a later one that got the same pid. */
export interface LockOwner {
  pid: number;
  /** os.hostname(): a container's own (its id, by default), so two containers on one volume differ. */
  host: string;
  /** The kernel's boot id (Linux): pids and start times are comparable only within one boot. */
  boot: string;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat, field 22); '' where there is no /proc. */
  start: string;
}

export interface DataDirLockOptions {
  /** How often the holder touches the lock file (default 10 s). */
  heartbeatMs?: number;
  /** A lock from another host or boot not touched for this long is stale (default 30 s). */
  staleAfterMs?: number;
  /** For tests: who this process is. */
  self?: LockOwner;
}

/**
 * One process per embedded data directory: two PGlite instances on the same files corrupt them. The lock file says
 * who holds it (pid, host, boot id, the process's start time) and is touched every `heartbeatMs` while held.
 *
 * A lock is held by a live process when: written on this host and boot, its pid is alive and was started when the
 * lock says (a pid reused by another process, e.g. pid 1 of a restarted container, is not the holder); written on
 * another host or boot (another container on a shared volume), it was touched within `staleAfterMs`. Any other lock
 * is stale and taken over. Until stop 47 the file held the pid alone: a container restarted with another process on
 * the dead holder's pid never started again, and a second container on the same volume, pid 1 as well, took the
 * lock of a running one (an outside review).
 *
 * A stale lock is taken over under a guard (`embedded.lock.takeover`, created exclusively, held for the moment of
 * the takeover): the lock is read again under it, and removed and replaced only if still stale. Until stop 51 the
 * removal was not guarded: processes starting together on a stale lock each read it stale, and one removed the lock
 * another had just written in its place: both held the directory (a review: 7 of 40 rounds with 2 processes). A
 * process that finds the guard held waits for it, then looks at the lock again (held now, by the process that took
 * it over). The normal path (no lock file) does not touch the guard and costs nothing more.
 */
export function lockDataDir(dataDir: string, options: DataDirLockOptions = {}): () => void {
  const file = join(dataDir, 'embedded.lock');
  const guard = join(dataDir, 'embedded.lock.takeover');
  const self = options.self ?? currentProcess();
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const body = JSON.stringify(self);
  // Waiting for a guard held by another process: at most until a guard left by a dead one would count as stale.
  const giveUpAt = Date.now() + guardStaleMs(staleAfterMs) + 2_000;
  for (;;) {
    if (create(file, body)) break;
    const held = readLock(file, { strict: true });
    if (held !== null) {
      refuseIfHeld(held, dataDir, self, staleAfterMs);
      // Stale.
      const outcome = takeOver(file, guard, body, dataDir, self, staleAfterMs);
      if (outcome === 'taken') break;
      if (outcome === 'busy') sleep(10);
    }
    // Gone meanwhile, or changed while being taken over, or another process is taking it over: look again.
    if (Date.now() > giveUpAt) throw new Error(`DATA_DIR ${dataDir} is being locked by another process (embedded PostgreSQL allows one process)`);
  }
  const heartbeat = setInterval(() => {
    const held = readLock(file);
    if (held?.owner && sameProcess(held.owner, self)) {
      try {
        const now = new Date();
        utimesSync(file, now, now);
      } catch {
        // The directory went away: nothing to keep fresh.
      }
    }
  }, options.heartbeatMs ?? 10_000);
  heartbeat.unref();
  return () => {
    clearInterval(heartbeat);
    // Only our own lock: one taken over meanwhile (ours went stale) belongs to its new holder.
    const held = readLock(file);
    if (held?.owner && sameProcess(held.owner, self)) rmSync(file, { force: true });
  };
}

/** Created exclusively: false when the file exists. */
function create(file: string, body: string): boolean {
  try {
    writeFileSync(file, body, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Throws when the lock read is held by another process (or is being written by one); returns when it is stale. */
function refuseIfHeld(held: { owner: LockOwner | null; touchedAtMs: number }, dataDir: string, self: LockOwner, staleAfterMs: number): void {
  if (held.owner === null) {
    // Not readable: being written by a process starting right now, or left so by one that died doing it.
    if (Date.now() - held.touchedAtMs < staleAfterMs) throw new Error(`DATA_DIR ${dataDir} is being locked by another process (embedded PostgreSQL allows one process)`);
  } else if (holds(held.owner, held.touchedAtMs, self, staleAfterMs)) {
    const where = held.owner.host === self.host ? '' : ` on host ${held.owner.host}`;
    throw new Error(`DATA_DIR ${dataDir} is in use by process ${held.owner.pid}${where} (embedded PostgreSQL allows one process)`);
  }
}

/** The guard is held for a moment (a read, a removal, a write): one older than this was left by a process that died. */
function guardStaleMs(staleAfterMs: number): number {
  return Math.min(staleAfterMs, 5_000);
}

/**
 * Takes over a stale lock under the guard: 'taken' (this process holds the lock), 'busy' (another process holds the
 * guard), 'again' (the lock changed meanwhile: look again). Throws when the lock, read again under the guard, is held.
 */
function takeOver(file: string, guard: string, body: string, dataDir: string, self: LockOwner, staleAfterMs: number): 'taken' | 'busy' | 'again' {
  if (!create(guard, body)) {
    const other = readLock(guard, { strict: true });
    if (other === null) return 'again'; // released meanwhile
    const young = Date.now() - other.touchedAtMs < guardStaleMs(staleAfterMs);
    if (other.owner === null ? young : holds(other.owner, other.touchedAtMs, self, guardStaleMs(staleAfterMs))) return 'busy';
    // Left by a process that died while taking over. Two processes clearing it at once could each then create the
    // guard in turn: the one whose guard is gone after a moment backs off.
    rmSync(guard, { force: true });
    if (!create(guard, body)) return 'busy';
    sleep(100);
    if (!ownedBy(guard, self)) return 'busy';
  }
  try {
    // Read again under the guard: a takeover that ended since the first read has put a live lock here.
    const held = readLock(file, { strict: true });
    if (held !== null) {
      refuseIfHeld(held, dataDir, self, staleAfterMs);
      rmSync(file, { force: true });
    }
    // Taken by a process on the normal path (no lock file when it looked) since the removal: look again.
    return create(file, body) ? 'taken' : 'again';
  } finally {
    if (ownedBy(guard, self)) rmSync(guard, { force: true });
  }
}

function ownedBy(file: string, self: LockOwner): boolean {
  const held = readLock(file);
  return held !== null && held.owner !== null && sameProcess(held.owner, self);
}

/** Blocks this thread (lockDataDir runs once, at start, synchronously). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function holds(owner: LockOwner, touchedAtMs: number, self: LockOwner, staleAfterMs: number): boolean {
  if (owner.host === self.host && owner.boot === self.boot) {
    // Our own pid: an earlier process that had it (a restarted container's pid 1), or this one locking again.
    if (owner.pid === self.pid || !isAlive(owner.pid)) return false;
    // Where start times can be read (Linux), a live pid started at another time is another process.
    const start = startTimeOf(owner.pid);
    return owner.start === '' || start === '' || start === owner.start;
  }
  return Date.now() - touchedAtMs < staleAfterMs;
}

function sameProcess(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.host === b.host && a.boot === b.boot && a.start === b.start;
}

/** The lock's holder (null: not readable) and when it was last touched; null when there is no lock file. */
function readLock(file: string, options: { strict?: boolean } = {}): { owner: LockOwner | null; touchedAtMs: number } | null {
  let text: string;
  let touchedAtMs: number;
  try {
    touchedAtMs = statSync(file).mtimeMs;
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // `strict` (taking the lock): a file that is there but cannot be read (left by a process run as another user, or
    // not a file) is said so at once. Until then it read as "gone meanwhile", and the start spun a core for 7 s before
    // blaming "another process" (the second review of stop 51).
    if (options.strict && code !== 'ENOENT') {
      throw new Error(`${file} cannot be read (${code ?? 'error'}): check its owner and permissions, or remove it if no process holds DATA_DIR`);
    }
    return null;
  }
  // Written before stop 47: the pid alone, on this host.
  if (/^\d+$/.test(text)) return { owner: { pid: Number(text), host: hostname(), boot: bootId(), start: '' }, touchedAtMs };
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    const valid = typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.boot === 'string' && typeof value.start === 'string';
    return { owner: valid ? (value as LockOwner) : null, touchedAtMs };
  } catch {
    return { owner: null, touchedAtMs };
  }
}

function currentProcess(): LockOwner {
  return processOnThisHost(process.pid);
}

/** The identity a process of this host (this one by default) writes into the lock. */
export function processOnThisHost(pid: number): LockOwner {
  return { pid, host: hostname(), boot: bootId(), start: startTimeOf(pid) };
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces); '' without /proc. */
function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
