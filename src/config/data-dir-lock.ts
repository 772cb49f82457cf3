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
 */
export function lockDataDir(dataDir: string, options: DataDirLockOptions = {}): () => void {
  const file = join(dataDir, 'embedded.lock');
  const self = options.self ?? currentProcess();
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const body = JSON.stringify(self);
  for (let attempt = 0; ; attempt += 1) {
    try {
      writeFileSync(file, body, { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error;
    }
    const held = readLock(file);
    if (held === null) continue; // gone meanwhile: try again
    if (held.owner === null) {
      // Not readable: being written by a process starting right now, or left so by one that died doing it.
      if (Date.now() - held.touchedAtMs < staleAfterMs) throw new Error(`DATA_DIR ${dataDir} is being locked by another process (embedded PostgreSQL allows one process)`);
    } else if (holds(held.owner, held.touchedAtMs, self, staleAfterMs)) {
      const where = held.owner.host === self.host ? '' : ` on host ${held.owner.host}`;
      throw new Error(`DATA_DIR ${dataDir} is in use by process ${held.owner.pid}${where} (embedded PostgreSQL allows one process)`);
    }
    // Stale: removed, and taken with `wx` again, so two processes taking over the same stale lock at once do not both
    // get it.
    rmSync(file, { force: true });
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
function readLock(file: string): { owner: LockOwner | null; touchedAtMs: number } | null {
  let text: string;
  let touchedAtMs: number;
  try {
    touchedAtMs = statSync(file).mtimeMs;
    text = readFileSync(file, 'utf8').trim();
  } catch {
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
