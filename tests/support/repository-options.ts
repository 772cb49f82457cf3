import { randomBytes } from 'node:crypto';
import type { RepositoryOptions } from '@infrastructure/persistence/repository-options';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { SystemClock } from '@infrastructure/time/system-clock';

/** What typeOrmRepositories/inMemoryRepositories and the units of work need in tests: a fresh key, the real clock. */
export function testRepositoryOptions(overrides: Partial<RepositoryOptions> = {}): RepositoryOptions {
  return { secretBox: new AesGcmSecretBox(randomBytes(32)), clock: new SystemClock(), ...overrides };
}
