import type { SigningKeyRecord } from '@application/ports/signing-keys';
import { typeOrmRepositories, type TypeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { backends, type TestDatabase } from './support/backends';
import { at, uniqueSuffix } from './support/fixtures';
import { testRepositoryOptions } from '../../support/repository-options';

function aKey(createdAt: Date, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid: `kid-${uniqueSuffix()}`,
    alg: 'EdDSA',
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${uniqueSuffix()}` },
    sealedPrivateKey: `v1.sealed.${uniqueSuffix()}`,
    status: 'next',
    createdAt,
    activatedAt: null,
    retiredAt: null,
    ...overrides,
  };
}

// One database per backend for this file only, so list() sees exactly the keys these tests wrote.
describe.each(backends)('TypeOrmSigningKeyRepository on $name', (backend) => {
  let db: TestDatabase;
  let repos: TypeOrmRepositories;

  beforeAll(async () => {
    db = await backend.start();
    repos = typeOrmRepositories(db.dataSource.manager, testRepositoryOptions());
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('saves, lists oldest first, updates by kid and deletes keys', async () => {
    const rsa = aKey(at('2026-01-02T00:00:00.000Z'), {
      alg: 'RS256',
      publicJwk: { kty: 'RSA', n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl', e: 'AQAB' },
    });
    const ed = aKey(at('2026-01-01T00:00:00.000Z'), { status: 'active', activatedAt: at('2026-01-01T00:00:01.000Z') });
    await repos.signingKeys.save(rsa);
    await repos.signingKeys.save(ed);

    await expect(repos.signingKeys.list()).resolves.toEqual([ed, rsa]);

    const retired = { ...ed, status: 'retired' as const, retiredAt: at('2026-01-03T00:00:00.000Z') };
    const activated = { ...rsa, status: 'active' as const, activatedAt: at('2026-01-03T00:00:00.000Z') };
    await repos.signingKeys.save(retired);
    await repos.signingKeys.save(activated);
    await expect(repos.signingKeys.list()).resolves.toEqual([retired, activated]);

    await repos.signingKeys.delete(retired.kid);
    await expect(repos.signingKeys.list()).resolves.toEqual([activated]);
  });
});
