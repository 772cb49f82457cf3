import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateEncryptionKey } from '@infrastructure/security/crypto/aes-gcm-secret-box';

/**
 * ENCRYPTION_KEY when set; otherwise (never in production: config refuses) a key generated once and kept in
 * `<dataDir>/encryption.key`, readable by the owner only. Losing that file makes sealed secrets unreadable.
 */
export async function resolveEncryptionKey(configured: string | null, dataDir: string): Promise<{ key: string; source: string }> {
  if (configured) return { key: configured, source: 'ENCRYPTION_KEY' };
  const file = join(dataDir, 'encryption.key');
  if (existsSync(file)) return { key: (await readFile(file, 'utf8')).trim(), source: file };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = generateEncryptionKey();
  await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return { key, source: `${file} (generated)` };
}
