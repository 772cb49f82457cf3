import { CLIENT, createKit } from '../support/test-kit';

/**
 * A review of clocks (stop 65): a non-admin's refusals are audited at most once a minute per caller, measured on the
 * wall clock; after it stepped back (an NTP correction) the last entry's time lay ahead, the age came out negative
 * and counted as recent, so every refusal went unaudited for the step plus a minute. A negative age counts as due.
 */
describe('RecordAdminRefusal across a wall clock stepped back', () => {
  it('audits the next refusal after the step, and still at most one a minute from there', async () => {
    const kit = await createKit();
    const refuse = () => kit.useCases.RecordAdminRefusal.execute({ actorId: 'caller-1', subjectId: null, reason: 'not_admin', client: CLIENT });
    const refusals = async () => {
      await kit.settle();
      return kit.auditTypes().filter((type) => type === 'admin.refused').length;
    };
    refuse();
    await expect(refusals()).resolves.toBe(1);
    kit.clock.advance(-3600);
    refuse();
    await expect(refusals()).resolves.toBe(2);
    kit.clock.advance(30);
    refuse();
    await expect(refusals()).resolves.toBe(2);
    kit.clock.advance(31);
    refuse();
    await expect(refusals()).resolves.toBe(3);
  });
});
