import { getMetadataStorage } from 'class-validator';
import { DomainError } from '@domain/shared/domain-error';
import * as account from '@interface/http/dto/account.dto';
import * as admin from '@interface/http/dto/admin.dto';
import * as auth from '@interface/http/dto/auth.dto';
import * as mfa from '@interface/http/dto/mfa.dto';
import * as oauth from '@interface/http/dto/oauth.dto';
import { toDto } from '@interface/http/dto/validate-dto';
import { buildTestApp, expectErrorEnvelope } from './support/test-app';

/**
 * A review of stop 55: class-transformer takes a nested object's own `constructor` member for the class to build and
 * throws, so `{"email": {"constructor": 1}}` answered 500 INTERNAL_ERROR (and logged an unhandled error) on every
 * public body route. No DTO has a nested type: an object where a member is expected is a wrong type, answered 400.
 */
const members = (dto: new () => object) => [
  ...new Set(getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false).map((m) => m.propertyName)),
];
// The modules' classes that declare a member (NoQueryDto declares none; the helper functions are not classes).
const DTOS = Object.entries({ ...account, ...admin, ...auth, ...mfa, ...oauth }).filter(
  (entry): entry is [string, new () => object] =>
    typeof entry[1] === 'function' && /^class\b/.test(Function.prototype.toString.call(entry[1])) && members(entry[1] as new () => object).length > 0,
);
const NESTED: unknown[] = [
  { constructor: 1 },
  { constructor: 'x' },
  { constructor: { prototype: 1 } },
  { constructor: null, x: 1 },
  [{ constructor: {} }],
  ['a', [{ constructor: 1 }]],
  { prototype: { constructor: 1 } },
];

describe('a member that holds an object with a `constructor` key is a 400 naming it, never a 500', () => {
  it('covers every DTO', () => {
    expect(DTOS.length).toBeGreaterThanOrEqual(20);
  });

  it.each(DTOS)('%s: every declared member, every shape', async (_name, dto) => {
    for (const member of members(dto)) {
      for (const value of NESTED) {
        // JSON, as the body reader would give it: `constructor` is then an own member of the nested object.
        const body = JSON.parse(JSON.stringify({ [member]: value })) as Record<string, unknown>;
        const outcome = await toDto(dto, body).then(
          () => 'accepted',
          (error: unknown) => (error instanceof DomainError ? { code: error.code, named: Object.hasOwn(error.details ?? {}, member) } : String(error)),
        );
        expect({ member, value, outcome }).toEqual({ member, value, outcome: { code: 'VALIDATION_ERROR', named: true } });
      }
    }
  });

  it('over HTTP: login and register answer 400 VALIDATION_ERROR in the envelope', async () => {
    const t = await buildTestApp();
    for (const path of ['/api/v1/auth/login', '/api/v1/auth/register']) {
      for (const email of ['{"constructor":1}', '[{"constructor":{}}]']) {
        const res = await t.http().post(path).set('Content-Type', 'application/json').send(`{"email":${email},"password":"long enough pw"}`);
        expect({ path, email, status: res.status }).toEqual({ path, email, status: 400 });
        expect(expectErrorEnvelope(res.body, 'VALIDATION_ERROR').details).toHaveProperty('email');
      }
    }
    expect(t.db.tables.users.size).toBe(0);
  });
});
