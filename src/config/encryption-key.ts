import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateEncryptionKey, parseEncryptionKey } from '@infrastructure/security/crypto/aes-gcm-secret-box';

/**
 * ENCRYPTION_KEY when set; otherwise (never in production: config refuses) a key generated once and kept in
 * `<dataDir>/encryption.key`, readable by the owner only. Losing that file makes sealed secrets unreadable.
 *
 * The file appears whole or not at all: the key is written to a file of its own and then linked under the final
 * name, which fails if another process got there first (its key is then the one read). Until stop 34 the file was
 * created empty and then written, so a process starting beside another could read it empty, and one killed in
 * between left an empty file that stopped every later start (an outside review found it). An empty file is refused,
 * saying why, and so is one that holds no key (until stop 51 that was reported as a malformed ENCRYPTION_KEY, a
 * variable the user had not set: a review); one readable by others is made owner-only where this process may. On a
 * filesystem without hard links the key is written in place as before.
 */
export async function resolveEncryptionKey(configured: string | null, dataDir: string): Promise<{ key: string; source: string }> {
  if (configured) return { key: configured, source: 'ENCRYPTION_KEY' };
  const file = join(dataDir, 'encryption.key');
  const existing = await readKeyFile(file);
  if (existing !== null) return { key: existing, source: file };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = generateEncryptionKey();
  const draft = join(dataDir, `.encryption.key.${process.pid}.${randomBytes(6).toString('hex')}`);
  await writeFile(draft, `${key}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await chmod(draft, 0o600);
    await link(draft, file).catch(async (error: NodeJS.ErrnoException) => {
      // No hard links here (some network and FUSE filesystems): created in place, exclusively, as before.
      if (error.code !== 'EPERM' && error.code !== 'ENOTSUP' && error.code !== 'EOPNOTSUPP' && error.code !== 'ENOSYS') throw error;
      await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process created it meanwhile, whole: its key is the one.
    const theirs = await readKeyFile(file);
    if (theirs === null) throw error;
    return { key: theirs, source: file };
  } finally {
    await unlink(draft).catch(() => undefined);
  }
  return { key, source: `${file} (generated)` };
}

/** The key in the file, or null when there is none; refuses an empty one and one that is not a key (never echoed). */
async function readKeyFile(file: string): Promise<string | null> {
  const found = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (found === null) return null;
  // Made owner-only where this process may (a read-only DATA_DIR, or another owner's file, is left as it is).
  if ((found.mode & 0o077) !== 0) await chmod(file, 0o600).catch(() => undefined);
  const key = (await readFile(file, 'utf8')).trim();
  if (key === '') throw new Error(`${file} is empty (a start interrupted while creating it?): delete it if nothing was sealed with it, or set ENCRYPTION_KEY`);
  try {
    parseEncryptionKey(key);
  } catch {
    throw new Error(
      `${file} does not hold a key (32 bytes as 64 hex characters or base64/base64url): put back the key it held, delete it if nothing was sealed with it, or set ENCRYPTION_KEY`,
    );
  }
  return key;
}
