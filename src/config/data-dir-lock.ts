import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One process per embedded data directory: two PGlite instances on the same files corrupt them. The lock file
 * holds the owner's pid; a lock whose process is gone is stale and taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'embedded.lock');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number(readFileSync(file, 'utf8').trim());
    if (owner !== process.pid && isAlive(owner)) {
      throw new Error(`DATA_DIR ${dataDir} is in use by process ${owner} (embedded PostgreSQL allows one process)`);
    }
    writeFileSync(file, String(process.pid), { mode: 0o600 });
  }
  return () => rmSync(file, { force: true });
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
