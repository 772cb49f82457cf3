import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DomainError } from '@domain/shared/domain-error';
import type { EventData } from '@domain/shared/domain-event';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { CLIENT, PASSWORD, createKit } from '../application/support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

const DOC = readFileSync(resolve(__dirname, '../../../docs/events.md'), 'utf8');

/** docs/events.md's section of `type`: its prose, its field table (name -> the row's text) and its JSON examples. */
function documented(type: string) {
  const start = DOC.indexOf(`\n### ${type}\n`);
  if (start < 0) throw new Error(`docs/events.md has no section ${type}`);
  const rest = DOC.slice(start + 1);
  const end = rest.indexOf('\n### ', 1);
  const text = end < 0 ? rest : rest.slice(0, end);
  const fields = new Map([...text.matchAll(/^\| `([a-z_]+)` \|(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const examples = [...text.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]!) as EventData);
  return { text, fields, examples };
}

/** The catalogue row of `type` (its "fires when" column). */
function catalogued(type: string): string {
  const row = DOC.split('\n').find((line) => line.startsWith(`| \`${type}\` |`));
  if (!row) throw new Error(`docs/events.md's catalogue has no row for ${type}`);
  return row;
}

const keys = (data: EventData) => Object.keys(data).sort();

/** The events the kit's outbox holds of `type`, as `data`. */
const emitted = (kit: Kit, type: string) => kit.db.tables.outbox.filter((row) => row.event.type === type).map((row) => row.event.data);

async function refused(run: () => Promise<unknown>): Promise<void> {
  await expect(run()).rejects.toBeInstanceOf(DomainError);
}

/**
 * The flows that emit the two failure events: wrong passwords up to the password lockout, and on an MFA account
 * the right password with wrong codes up to the second step's lockout.
 */
async function failures(): Promise<Kit> {
  const kit = await createKit();
  await kit.registerVerified('pw@example.com');
  for (let i = 0; i < 5; i += 1) await refused(() => kit.signIn({ identifier: 'pw@example.com', password: 'not the password', client: CLIENT }));
  await kit.settle();

  const totp = new OtpauthTotp();
  const { user, tokens } = await kit.loggedIn('mfa@example.com');
  const claims = await kit.tokens.verify(tokens.accessToken);
  if (!('sid' in claims)) throw new Error('not a user token');
  const setup = await kit.useCases.BeginTotpSetup.execute({ userId: user.id, sessionId: claims.sid, client: CLIENT });
  await kit.useCases.EnableTotp.execute({ userId: user.id, sessionId: claims.sid, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });
  kit.clock.advance(60);
  // One wrong password first: failed_attempts counts both kinds of failure.
  await refused(() => kit.signIn({ identifier: 'mfa@example.com', password: 'not the password', client: CLIENT }));
  await kit.settle();
  const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'mfa@example.com', password: PASSWORD, client: CLIENT });
  if (!outcome.mfaRequired) throw new Error('expected a challenge');
  const wrong = totp.generate(setup.secret, new Date(0));
  for (let i = 0; i < 5; i += 1) await refused(() => kit.useCases.VerifyMfaLogin.execute({ mfaToken: outcome.mfaToken, proof: { code: wrong }, client: CLIENT }));
  return kit;
}

/** docs/events.md is the catalogue other services code against: checked here against the payloads emitted. */
describe('docs/events.md against the emitted events', () => {
  let kit: Kit;
  beforeAll(async () => {
    kit = await failures();
  });

  it.each(['auth.user.login_failed', 'auth.account.locked'])('%s: the field table and every example name exactly the fields emitted', (type) => {
    const events = emitted(kit, type);
    expect(events.length).toBeGreaterThan(0);
    const doc = documented(type);
    for (const data of events) expect(keys(data)).toEqual(['user_id', ...doc.fields.keys()].sort());
    expect(doc.examples.length).toBeGreaterThan(0);
    for (const example of doc.examples) expect(keys(example)).toEqual(keys(events[0]!));
  });

  /**
   * Found by an outside review: the page said a wrong password with reason `wrong_password` only, while every wrong
   * MFA code emits it with `wrong_mfa_code` and `failed_attempts` counts both.
   */
  it('auth.user.login_failed: every reason emitted is documented, in the catalogue row too, and failed_attempts counts both', () => {
    const events = emitted(kit, 'auth.user.login_failed');
    const reasons = [...new Set(events.map((data) => data.reason))].sort();
    expect(reasons).toEqual(['wrong_mfa_code', 'wrong_password']);
    const doc = documented('auth.user.login_failed');
    for (const reason of reasons) {
      expect([reason, doc.fields.get('reason')]).toEqual([reason, expect.stringContaining(`\`${reason}\``)]);
      expect([reason, doc.examples.some((e) => e.reason === reason)]).toEqual([reason, true]);
    }
    expect(catalogued('auth.user.login_failed')).toMatch(/wrong password[\s\S]*second-step code/);
    // The MFA account's failures: one wrong password, then five wrong codes, counted as one run.
    const mfaUser = [...kit.db.tables.outbox].filter((row) => row.event.type === 'auth.user.login_failed').at(-1)!.event.subject;
    const counts = events.filter((data) => data.user_id === mfaUser).map((data) => [data.reason, data.failed_attempts]);
    expect(counts).toEqual([['wrong_password', 1], ...[2, 3, 4, 5, 6].map((n) => ['wrong_mfa_code', n])]);
    expect(doc.fields.get('failed_attempts')).toMatch(/wrong passwords and wrong second-step codes/);
  });

  it('auth.account.locked: both factors emitted are documented, with an example each', () => {
    const factors = emitted(kit, 'auth.account.locked').map((data) => data.factor);
    expect(factors).toEqual(['password', 'second_factor']);
    const doc = documented('auth.account.locked');
    for (const factor of factors) {
      expect([factor, doc.fields.get('factor')]).toEqual([factor, expect.stringContaining(`\`${factor}\``)]);
      expect([factor, doc.examples.some((e) => e.factor === factor)]).toEqual([factor, true]);
    }
    expect(catalogued('auth.account.locked')).toContain('`factor`');
  });
});
