import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEncryptionKey } from '@config/encryption-key';

describe('the key file under DATA_DIR (no ENCRYPTION_KEY)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'auth-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = () => join(dir, 'data', 'encryption.key');

  it('is generated once, owner-only, and read back as it is', async () => {
    const first = await resolveEncryptionKey(null, join(dir, 'data'));
    expect(first.source).toBe(`${file()} (generated)`);
    expect(first.key).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    await expect(resolveEncryptionKey(null, join(dir, 'data'))).resolves.toEqual({ key: first.key, source: file() });
    await expect(resolveEncryptionKey('configured', join(dir, 'data'))).resolves.toEqual({ key: 'configured', source: 'ENCRYPTION_KEY' });
  });

  /**
   * Processes starting at once on a fresh DATA_DIR (outside review, 2026-12-02): the file was created empty and then
   * written, so another starter could fail on EEXIST or read it empty. 20 at once, 5 rounds: one key for all.
   */
  it('starters racing on a fresh DATA_DIR all get the one key that is in the file; no draft is left', async () => {
    for (let round = 0; round < 5; round += 1) {
      const data = join(dir, `race-${round}`);
      const results = await Promise.all(Array.from({ length: 20 }, () => resolveEncryptionKey(null, data)));
      const onDisk = readFileSync(join(data, 'encryption.key'), 'utf8').trim();
      expect([round, new Set(results.map((r) => r.key))]).toEqual([round, new Set([onDisk])]);
      expect(results.filter((r) => r.source.endsWith('(generated)'))).toHaveLength(1);
      expect(readdirSync(data)).toEqual(['encryption.key']);
    }
  });

  it('refuses an empty file, saying why; makes a file readable by others owner-only; reads one through a symbolic link', async () => {
    const data = join(dir, 'data');
    await resolveEncryptionKey(null, data);
    const key = readFileSync(file(), 'utf8');
    chmodSync(file(), 0o644);
    await expect(resolveEncryptionKey(null, data)).resolves.toEqual({ key: key.trim(), source: file() });
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    writeFileSync(file(), '');
    await expect(resolveEncryptionKey(null, data)).rejects.toThrow(/encryption\.key is empty .*set ENCRYPTION_KEY/);
    rmSync(file());
    writeFileSync(join(dir, 'planted'), key);
    // A mounted secret (Kubernetes projects files as symbolic links) is read as the key.
    symlinkSync(join(dir, 'planted'), file());
    await expect(resolveEncryptionKey(null, data)).resolves.toEqual({ key: key.trim(), source: file() });
  });

  /**
   * A file holding something that is not a key (review of stop 50): the start failed with "ENCRYPTION_KEY must be 32
   * bytes ...", naming a variable nobody had set. Now the file is named, as an empty one is, and its content is not
   * echoed.
   */
  it('refuses a file that holds no key, naming the file and not what it holds', async () => {
    const data = join(dir, 'data');
    await resolveEncryptionKey(null, data);
    for (const garbage of ['abc', 'secret-garbage-value', 'a'.repeat(63)]) {
      writeFileSync(file(), `${garbage}\n`);
      const error = await resolveEncryptionKey(null, data).then(() => null, (e: Error) => e);
      expect(error?.message).toBe(
        `${file()} does not hold a key (32 bytes as 64 hex characters or base64/base64url): put back the key it held, delete it if nothing was sealed with it, or set ENCRYPTION_KEY`,
      );
      expect(error?.message.replace(file(), '')).not.toContain(garbage);
    }
    // ENCRYPTION_KEY set: the file is not read.
    await expect(resolveEncryptionKey('configured', data)).resolves.toEqual({ key: 'configured', source: 'ENCRYPTION_KEY' });
  });
});
