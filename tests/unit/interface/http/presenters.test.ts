import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { successJson } from '@interface/http/envelope';
import { decodeCursor, encodeCursor, instantParam } from '@interface/http/presenters/admin.presenter';
import { presentClaims } from '@interface/http/presenters/claims.presenter';
import { presentTokens } from '@interface/http/presenters/tokens.presenter';
import { presentAdminUser, presentUser } from '@interface/http/presenters/user.presenter';
import { aUser } from '../../../support/mothers';

describe('presenters', () => {
  const now = new Date('2030-05-01T10:00:00.000Z');

  it('presents a user with exactly the contract fields, ISO dates and no credentials', () => {
    const user = aUser({ email: 'a@example.com', username: null, firstName: null, lastName: 'L', passwordHash: '$argon2id$secret', now });
    const view = presentUser(user);
    expect(view).toEqual({
      id: user.id,
      email: 'a@example.com',
      username: null,
      first_name: null,
      last_name: 'L',
      status: 'pending_verification',
      email_verified: false,
      roles: ['user'],
      mfa_enabled: false,
      created_at: '2030-05-01T10:00:00.000Z',
      updated_at: '2030-05-01T10:00:00.000Z',
      last_login_at: null,
    });
    expect(JSON.stringify(view)).not.toContain('argon2');
  });

  it("the admin view presents an active account as locked while its login lock lasts, and until when; the user's own view never", () => {
    const user = aUser({ emailVerified: true, now });
    const until = new Date(now.getTime() + 900_000);
    user.recordLockout(now, until);
    // Anyone typing the address with wrong passwords can lock it: the owner and /auth/validate keep the stored status.
    expect(presentUser(user).status).toBe('active');
    expect(presentAdminUser(user, now)).toMatchObject({ status: 'locked', locked_until: until.toISOString() });
    // Its last instant is past the lock: active again, with no write.
    expect(presentAdminUser(user, until)).toMatchObject({ status: 'active', locked_until: null });
    expect(Object.keys(presentAdminUser(user, now)).sort()).toEqual([...Object.keys(presentUser(user)), 'locked_until'].sort());
    // A suspension, or a pending verification, says more than the lock: the status stays; the admin still sees the lock.
    user.suspend(now, 'admin-id');
    expect(presentAdminUser(user, now)).toMatchObject({ status: 'suspended', locked_until: until.toISOString() });
    const pending = aUser({ now });
    pending.recordLockout(now, until);
    expect(presentAdminUser(pending, now).status).toBe('pending_verification');
  });

  it('audit query dates and cursors: only instants the database can compare with, else 400 on the field', () => {
    expect(instantParam('since', '2026-01-31T00:00:00Z')).toEqual(new Date('2026-01-31T00:00:00Z'));
    expect(instantParam('since', undefined)).toBeUndefined();
    // A time without an offset is UTC whatever the server's zone (TZ), as a date alone is. (The suite runs in the
    // zone jest was started in: `TZ=Europe/Berlin npx jest tests/unit/interface/http/presenters.test.ts` checks it.)
    expect(instantParam('since', '2026-01-31T00:00:00')!.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(instantParam('since', '2026-01-31T00:00')!.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(instantParam('since', '2026-01-31T00:00:00.250')!.toISOString()).toBe('2026-01-31T00:00:00.250Z');
    expect(instantParam('since', '2026-01-31T00:00:00+01:00')!.toISOString()).toBe('2026-01-30T23:00:00.000Z');
    expect(instantParam('since', '2026-01-31')!.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    // ISO 8601 forms IsISO8601 accepts but Date cannot read, and years PostgreSQL reads back wrongly.
    for (const value of ['2020-W01', '2020-W53-7', '20200101', '2020-01-01T10', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z']) {
      expect(() => instantParam('until', value)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR', details: { until: [expect.stringContaining('years 1-9999')] } }));
    }
    // Years 1-9999 UTC, as the message says, the first and last instants included (IsISO8601's strict check refused 0001-0099).
    expect(instantParam('since', '0001-01-01')!.toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(instantParam('until', '0099-12-31T23:00:00Z')!.toISOString()).toBe('0099-12-31T23:00:00.000Z');
    expect(instantParam('until', '9999-12-31T23:59:59.999Z')!.toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(instantParam('since', '2024-02-29')!.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    // Days that do not exist (Date would roll them over into the next month), and an offset that leaves year 1.
    for (const value of ['2021-02-29', '2020-02-30T00:00:00Z', '1900-02-29', '2020-04-31', '0001-01-01T00:00:00+01:00']) {
      expect(() => instantParam('since', value)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR', details: { since: [expect.stringContaining('years 1-9999')] } }));
    }
    const id = '00000000-0000-4000-8000-000000000000';
    expect(decodeCursor(encodeCursor({ occurredAt: now, id }) ?? undefined)).toEqual({ occurredAt: now, id });
    const forged = Buffer.from(JSON.stringify(['-271821-04-20T00:00:00.000Z', id])).toString('base64url');
    expect(() => decodeCursor(forged)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });

  /**
   * An outside review (stop 49): IsISO8601 lets through a space before the time and ordinal dates (`2026-001`), which
   * Date read in the server's zone, so with TZ set the filter moved by the zone's offset. Checked in a child process
   * started with TZ=Europe/Berlin (jest's process.env is a copy: setting TZ in the test does not switch the zone), so
   * the test fails on such code whatever zone jest runs in.
   */
  it('in a server zone other than UTC (TZ=Europe/Berlin): times without an offset are UTC, ordinal and week dates 400', () => {
    const script = `
      const { instantParam } = require(${JSON.stringify(resolve(__dirname, '../../../../src/interface/http/presenters/admin.presenter.ts'))});
      const read = (v) => { try { return instantParam('since', v).toISOString(); } catch (e) { return e.code; } };
      const values = process.argv.slice(1);
      process.stdout.write(JSON.stringify({ offset: new Date(2026, 0, 31).getTimezoneOffset(), read: Object.fromEntries(values.map((v) => [v, read(v)])) }));
    `;
    const values = ['2026-01-31T00:00:00', '2026-01-31 00:00:00', '2026-01-31 10:30', '2026-01-31 10:30:00+01:00', '2026-01-31', '2026-01', '+002026-01-31T00:00:00Z',
      '2026-001', '2026-032', '2026-001T00:00:00', '2026-W05', '2026-W05-1', '2026001'];
    const child = spawnSync(process.execPath, ['-r', resolve(__dirname, '../../../support/swc-register.cjs'), '-e', script, ...values], {
      env: { PATH: process.env.PATH ?? '', TZ: 'Europe/Berlin' },
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({
      offset: -60,
      read: {
        '2026-01-31T00:00:00': '2026-01-31T00:00:00.000Z',
        '2026-01-31 00:00:00': '2026-01-31T00:00:00.000Z',
        '2026-01-31 10:30': '2026-01-31T10:30:00.000Z',
        '2026-01-31 10:30:00+01:00': '2026-01-31T09:30:00.000Z',
        '2026-01-31': '2026-01-31T00:00:00.000Z',
        '2026-01': '2026-01-01T00:00:00.000Z',
        '+002026-01-31T00:00:00Z': '2026-01-31T00:00:00.000Z',
        '2026-001': 'VALIDATION_ERROR',
        '2026-032': 'VALIDATION_ERROR',
        '2026-001T00:00:00': 'VALIDATION_ERROR',
        '2026-W05': 'VALIDATION_ERROR',
        '2026-W05-1': 'VALIDATION_ERROR',
        '2026001': 'VALIDATION_ERROR',
      },
    });
  });

  it('presents tokens with expires_in as the access token lifetime in seconds', () => {
    const pair = {
      accessToken: 'at',
      refreshToken: 'rt',
      accessTokenExpiresAt: new Date(now.getTime() + 900_000),
      accessTokenExpiresIn: 900,
      refreshTokenExpiresAt: new Date('2030-06-01T00:00:00.000Z'),
    };
    expect(presentTokens(pair)).toEqual({
      access_token: 'at',
      refresh_token: 'rt',
      token_type: 'Bearer',
      expires_in: 900,
      expires_at: new Date(now.getTime() + 900_000).toISOString(),
      refresh_expires_at: '2030-06-01T00:00:00.000Z',
    });
  });

  it('presents only the known claims', () => {
    const claims = { iss: 'i', aud: ['a'], sub: 's', sid: 'sid', jti: 'j', iat: 1, nbf: 1, exp: 2, roles: ['user'], email_verified: true, amr: ['pwd'] };
    const withExtra = Object.assign({ secret: 'x' }, claims);
    expect(presentClaims(withExtra)).toEqual(claims);
  });
  it('successJson writes what JSON.stringify of the success envelope writes, around data already serialized', () => {
    const data = { valid: true, user: { id: 'u', name: 'Ann "A" \\ <b>' }, n: [1, 2] };
    const text = successJson(JSON.stringify(data), 'req-1');
    const parsed = JSON.parse(text) as { meta: { timestamp: string } };
    expect(text).toBe(JSON.stringify({ success: true, data, meta: { request_id: 'req-1', timestamp: parsed.meta.timestamp, version: 'v1' } }));
    expect(new Date(parsed.meta.timestamp).toISOString()).toBe(parsed.meta.timestamp);
  });
});
