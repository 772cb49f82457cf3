import type { UnitOfWork } from '@application/ports/unit-of-work';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { CLIENT, PASSWORD, createKit, sidOf } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;
const totp = new OtpauthTotp();

/**
 * The transaction after the next `skip` ones fails when it records its audit entry, as a dropped database
 * connection would fail it mid-way: the in-memory unit of work rolls it back like PostgreSQL does. Fault injection
 * on the storage under the use case, not on the replay guard under test. Resolves to the number of transactions run.
 */
function failTransaction(kit: Kit, skip = 0): () => number {
  const uow = kit.uow as UnitOfWork;
  const run = uow.run.bind(uow);
  let calls = 0;
  uow.run = (<T>(work: Parameters<UnitOfWork['run']>[0]) =>
    run((repos) => {
      calls += 1;
      if (calls !== skip + 1) return work(repos) as Promise<T>;
      const audit = new Proxy(repos.audit, {
        get: (target, prop, receiver) => (prop === 'record' ? async () => Promise.reject(new Error('connection terminated unexpectedly')) : Reflect.get(target, prop, receiver)),
      });
      return work(new Proxy(repos, { get: (target, prop, receiver) => (prop === 'audit' ? audit : Reflect.get(target, prop, receiver)) })) as Promise<T>;
    })) as UnitOfWork['run'];
  return () => calls;
}

/**
 * An outside review (stop 48, left then): the TOTP step was claimed in the shared replay store before the
 * transaction that spends it. When that transaction failed (an outage: the user is answered 503), the claim stayed,
 * and sending the same right code again was refused as a replay until the authenticator showed the next one. Now a
 * failed spend gives the step back; the account's last accepted step still refuses a code that was accepted.
 */
describe('a second factor whose transaction fails is not spent', () => {
  it('enabling TOTP: the same code works on the retry, and is then a replay', async () => {
    const kit = await createKit();
    const { user, tokens } = await kit.loggedIn('carol@example.com');
    const sid = await sidOf(kit, tokens.accessToken);
    const setup = await kit.useCases.BeginTotpSetup.execute({ userId: user.id, sessionId: sid, client: CLIENT });
    const code = totp.generate(setup.secret, kit.clock.now());
    failTransaction(kit);
    await expect(kit.useCases.EnableTotp.execute({ userId: user.id, sessionId: sid, code, client: CLIENT })).rejects.toThrow('connection terminated');
    expect((await kit.repos.users.findById(user.id))?.mfaEnabled).toBe(false);
    const { backupCodes } = await kit.useCases.EnableTotp.execute({ userId: user.id, sessionId: sid, code, client: CLIENT });
    expect(backupCodes).toHaveLength(10);
    // Accepted once: the code that enabled it cannot sign in.
    const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'carol@example.com', password: PASSWORD, client: CLIENT });
    if (!outcome.mfaRequired) throw new Error('expected a challenge');
    await expect(kit.useCases.VerifyMfaLogin.execute({ mfaToken: outcome.mfaToken, proof: { code }, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('the login second step: the same code and challenge sign in on the retry, and the code is spent after that', async () => {
    const kit = await createKit();
    const { user, tokens } = await kit.loggedIn('dave@example.com');
    const sid = await sidOf(kit, tokens.accessToken);
    const setup = await kit.useCases.BeginTotpSetup.execute({ userId: user.id, sessionId: sid, client: CLIENT });
    await kit.useCases.EnableTotp.execute({ userId: user.id, sessionId: sid, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });
    kit.clock.advance(60);
    const challenge = async () => {
      const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'dave@example.com', password: PASSWORD, client: CLIENT });
      if (!outcome.mfaRequired) throw new Error('expected a challenge');
      return outcome.mfaToken;
    };
    const mfaToken = await challenge();
    const code = totp.generate(setup.secret, kit.clock.now());
    // The first transaction of the second step is the challenge's lookup; the one that fails is the spend.
    const calls = failTransaction(kit, 1);
    await expect(kit.useCases.VerifyMfaLogin.execute({ mfaToken, proof: { code }, client: CLIENT })).rejects.toThrow('connection terminated');
    expect(calls()).toBe(2);
    const { tokens: signedIn } = await kit.useCases.VerifyMfaLogin.execute({ mfaToken, proof: { code }, client: CLIENT });
    expect(await kit.tokens.verify(signedIn.accessToken)).toMatchObject({ sub: user.id, amr: ['pwd', 'otp'] });
    // Nothing counted against the account for the failed attempt, and the code is spent now.
    expect(kit.db.tables.auditEvents.filter((e) => e.reason === 'wrong_mfa_code')).toHaveLength(0);
    await expect(kit.useCases.VerifyMfaLogin.execute({ mfaToken: await challenge(), proof: { code }, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });
});
