import { randomBytes } from 'node:crypto';
import type { Clock } from '@application/ports/clock';
import type { SigningAlgorithm } from '@application/ports/signing-keys';
import { InMemorySigningKeyRepository } from '@infrastructure/persistence/memory/in-memory-signing-key.repository';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { JoseTokenService } from '@infrastructure/security/jose/jose-token-service';
import { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';

export class FakeClock implements Clock {
  constructor(private current = new Date('2026-01-01T00:00:00Z')) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  advanceSeconds(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

export const TTL = 900;
export const ISSUER = 'https://auth.example.test';
export const AUDIENCE = 'example-api';

export interface KeyWorld {
  clock: FakeClock;
  repository: InMemorySigningKeyRepository;
  box: AesGcmSecretBox;
  keys: SigningKeyManager;
  tokens: JoseTokenService;
}

/** A manager and token service over an in-memory repository; `shared` lets two "instances" use one database. */
export async function keyWorld(
  alg: SigningAlgorithm = 'EdDSA',
  shared?: Pick<KeyWorld, 'clock' | 'repository' | 'box'>,
): Promise<KeyWorld> {
  const clock = shared?.clock ?? new FakeClock();
  const repository = shared?.repository ?? new InMemorySigningKeyRepository();
  const box = shared?.box ?? new AesGcmSecretBox(randomBytes(32));
  const keys = new SigningKeyManager(repository, box, clock, { alg, accessTokenTtlSeconds: TTL });
  await keys.init();
  const tokens = new JoseTokenService(keys, { issuer: ISSUER, audience: AUDIENCE, accessTokenTtlSeconds: TTL, alg });
  return { clock, repository, box, keys, tokens };
}

export const CLAIMS = { sub: 'user-1', sid: 'session-1', roles: ['user'], email_verified: true, amr: ['pwd'] };

export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] as string, 'base64url').toString('utf8'));
}
