import { randomBytes } from 'node:crypto';
import { SEALED } from '@application/ports/secret-box';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { ManualClock } from '@infrastructure/time/system-clock';
import { ADAPTERS, SQL_ADAPTERS, type Store } from '../../support/persistence';

const TOKEN = 'tok_' + randomBytes(16).toString('hex');

/** The EmailOutbox port and the sender's EmailQueue: one contract for every adapter. */
describe.each(ADAPTERS)('email outbox and queue on $name', (adapter) => {
  let store: Store;
  const clock = new ManualClock(new Date('2026-03-01T00:00:00.000Z'));
  const box = new AesGcmSecretBox(randomBytes(32));
  const commits: string[] = [];

  beforeAll(async () => {
    store = await adapter.start({ secretBox: box, clock, wake: { emailSender: () => void commits.push('poke') } });
  });
  afterAll(async () => store?.stop());
  beforeEach(async () => {
    // Whatever an earlier case left is sent, and far behind: every case starts with nothing due.
    clock.advance(30 * 86400);
    for (const claimed of await store.emailQueue.claimDue(clock.now(), 1000, lease(1))) await store.emailQueue.markSent(claimed, clock.now());
    clock.advance(30 * 86400);
    commits.length = 0;
  });

  const enqueue = (to: string) =>
    store.uow.run((tx) => tx.emails.enqueue({ to, subject: 'Reset your password', text: `link ${TOKEN}`, html: `<a>${TOKEN}</a>` }));
  const lease = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);
  const rowOf = async (id: string) => (await store.emails()).find((row) => row.id === id)!;

  it('queues in the transaction (a rollback queues nothing), seals the bodies and pokes only after commit', async () => {
    const before = (await store.emails()).length;
    await expect(
      store.uow.run(async (tx) => {
        await tx.emails.enqueue({ to: 'x@example.com', subject: 's', text: TOKEN, html: TOKEN });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(commits).toEqual([]);
    expect(await store.emails()).toHaveLength(before);

    await enqueue('a@example.com');
    expect(commits).toEqual(['poke']);
    const rows = (await store.emails()).filter((row) => row.sentAt === null && row.failedAt === null);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(TOKEN);
    expect(rows[0]).toMatchObject({ recipient: 'a@example.com', subject: 'Reset your password', attempts: 0, sentAt: null, createdAt: clock.now() });
    expect(box.open(rows[0]!.sealedText!, SEALED.emailBody(rows[0]!.id, 'text'))).toBe(`link ${TOKEN}`);
    // Bound to its row and part: the html body's seal does not open as the text, nor under another row's id.
    expect(() => box.open(rows[0]!.sealedHtml!, SEALED.emailBody(rows[0]!.id, 'text'))).toThrow(/could not be opened/);
  });

  it('claims due rows oldest first, up to the limit', async () => {
    for (const to of ['first@example.com', 'second@example.com', 'third@example.com']) {
      await enqueue(to);
      clock.advance(1);
    }
    const claimed = await store.emailQueue.claimDue(clock.now(), 2, lease(300));
    expect(claimed.map((c) => c.recipient)).toEqual(['first@example.com', 'second@example.com']);
    const rest = await store.emailQueue.claimDue(clock.now(), 10, lease(300));
    expect(rest.map((c) => c.recipient)).toEqual(['third@example.com']);
    for (const c of [...claimed, ...rest]) await store.emailQueue.markSent(c, clock.now());
  });

  /** An outside review (2026-12-08): a sent row kept its sealed links until the purge, a week later. */
  it('drops the sealed bodies of an email once it is sent; a queued or failed one keeps them', async () => {
    await enqueue('sent@example.com');
    await enqueue('queued@example.com');
    const [sent] = await store.emailQueue.claimDue(clock.now(), 1, lease(300));
    expect(sent!.recipient).toBe('sent@example.com');
    await store.emailQueue.markSent(sent!, clock.now());
    const rows = await store.emails();
    const row = (to: string) => rows.find((r) => r.recipient === to)!;
    expect([row('sent@example.com').sealedText, row('sent@example.com').sealedHtml]).toEqual([null, null]);
    expect(box.open(row('queued@example.com').sealedText!, SEALED.emailBody(row('queued@example.com').id, 'text'))).toBe(`link ${TOKEN}`);
    expect(row('queued@example.com').sealedHtml).toEqual(expect.any(String));
    const [queued] = await store.emailQueue.claimDue(clock.now(), 10, lease(300));
    expect(queued!.recipient).toBe('queued@example.com');
    await store.emailQueue.markSent(queued!, clock.now());
  });

  it('concurrent claimers get disjoint rows, and a lease keeps them until it ends', async () => {
    for (let i = 0; i < 30; i += 1) await enqueue(`user${i}@example.com`);
    const claims = await Promise.all([1, 2, 3, 4].map(() => store.emailQueue.claimDue(clock.now(), 10, lease(300))));
    const ids = claims.flat().map((c) => c.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect(new Set(claims.flat().map((c) => c.claimId)).size).toBe(claims.filter((c) => c.length > 0).length);
    expect(claims.flat().every((c) => c.attempts === 1)).toBe(true);

    await expect(store.emailQueue.claimDue(clock.now(), 50, lease(300))).resolves.toEqual([]);
    clock.advance(300);
    const again = await store.emailQueue.claimDue(clock.now(), 50, lease(300));
    expect(again).toHaveLength(30);
    expect(again.every((c) => c.attempts === 2)).toBe(true);
    for (const c of again) await store.emailQueue.markSent(c, clock.now());
  });

  it('counts the failures about the message apart from the attempts: only when told so, only for the current claim, returned by the next claim', async () => {
    await enqueue('b@example.com');
    const [first] = await store.emailQueue.claimDue(clock.now(), 10, lease(300));
    expect(first!.messageFailures).toBe(0);
    await store.emailQueue.markFailed(first!, 'ESOCKET: connect ECONNREFUSED', lease(0), false);
    const [second] = await store.emailQueue.claimDue(clock.now(), 10, lease(1));
    expect(second).toMatchObject({ attempts: 2, messageFailures: 0 });
    await store.emailQueue.markFailed(second!, '450 4.2.1 mailbox busy', lease(0), true);
    expect(await rowOf(first!.id)).toMatchObject({ attempts: 2, messageFailures: 1 });
    const [third] = await store.emailQueue.claimDue(clock.now(), 10, lease(1));
    expect(third).toMatchObject({ attempts: 3, messageFailures: 1 });
    // Its lease lapses and another claim takes the row: the stale claim's verdict counts for nothing.
    clock.advance(2);
    const [fourth] = await store.emailQueue.claimDue(clock.now(), 10, lease(300));
    await store.emailQueue.markFailed(third!, '450 4.2.1 mailbox busy', lease(0), true);
    expect(await rowOf(first!.id)).toMatchObject({ attempts: 4, messageFailures: 1 });
    await store.emailQueue.markSent(fourth!, clock.now());
  });

  it('a failure schedules the retry for the current claim only; sent rows are never claimed again', async () => {
    await enqueue('a@example.com');
    const [first] = await store.emailQueue.claimDue(clock.now(), 10, lease(1));
    clock.advance(2);
    const [second] = await store.emailQueue.claimDue(clock.now(), 10, lease(300));
    await store.emailQueue.markFailed(first!, 'stale claim', lease(9999), false);
    expect(await rowOf(first!.id)).toMatchObject({ lastError: null, claimId: second!.claimId });

    await store.emailQueue.markFailed(second!, 'ESOCKET: connect ECONNREFUSED', lease(60), false);
    expect(await rowOf(first!.id)).toMatchObject({ lastError: 'ESOCKET: connect ECONNREFUSED', claimId: null, lockedUntil: null, attempts: 2 });
    await expect(store.emailQueue.claimDue(clock.now(), 10, lease(300))).resolves.toEqual([]);
    clock.advance(60);
    const [third] = await store.emailQueue.claimDue(clock.now(), 10, lease(300));
    const sentAt = clock.now();
    await store.emailQueue.markSent(third!, sentAt);
    clock.advance(3600);
    await expect(store.emailQueue.claimDue(clock.now(), 10, lease(300))).resolves.toEqual([]);
    expect(await rowOf(first!.id)).toMatchObject({ sentAt, lastError: null, attempts: 3 });
  });

  it('extends the lease of rows its claim still holds, never of one that lapsed or is another claim\'s', async () => {
    for (const to of ['kept@example.com', 'retaken@example.com', 'unleased@example.com', 'lapsed@example.com', 'done@example.com']) {
      await enqueue(to);
      clock.advance(1);
    }
    const claimed = await store.emailQueue.claimDue(clock.now(), 10, lease(60));
    const byTo = (to: string) => claimed.find((c) => c.recipient === to)!;
    await store.emailQueue.markSent(byTo('done@example.com'), clock.now());
    clock.advance(30);
    const kept = await store.emailQueue.extendLease([byTo('kept@example.com')], clock.now(), lease(300));
    expect([...kept]).toEqual([byTo('kept@example.com').id]);
    clock.advance(60); // the claim's own lease ended for the others
    const [taken] = await store.emailQueue.claimDue(clock.now(), 1, lease(300));
    expect(taken!.recipient).toBe('retaken@example.com');
    const [other] = await store.emailQueue.claimDue(clock.now(), 1, lease(300));
    expect(other!.recipient).toBe('unleased@example.com');
    await store.emailQueue.markFailed(other!, 'ESOCKET', lease(3600), false); // unleased: lapsed for the first claim too

    const again = await store.emailQueue.extendLease(claimed, clock.now(), lease(300));
    expect([...again]).toEqual([byTo('kept@example.com').id]);
    expect(await rowOf(byTo('kept@example.com').id)).toMatchObject({ lockedUntil: lease(300), claimId: byTo('kept@example.com').claimId });
    expect(await rowOf(taken!.id)).toMatchObject({ lockedUntil: lease(300), claimId: taken!.claimId });
    expect(await rowOf(other!.id)).toMatchObject({ lockedUntil: null, claimId: null });
    expect(await rowOf(byTo('lapsed@example.com').id)).toMatchObject({ lockedUntil: lease(-30), claimId: byTo('lapsed@example.com').claimId });
    await expect(store.emailQueue.extendLease([], clock.now(), lease(300))).resolves.toEqual(new Set());
    for (const c of [byTo('kept@example.com'), taken!, byTo('lapsed@example.com')]) await store.emailQueue.markSent(c, clock.now());
  });

  it('a release hands unstarted rows back at once, attempts as before; a stale claim releases nothing', async () => {
    await enqueue('first@example.com');
    clock.advance(1);
    await enqueue('second@example.com');
    const [stale] = await store.emailQueue.claimDue(clock.now(), 1, lease(1));
    clock.advance(2);
    const claimed = await store.emailQueue.claimDue(clock.now(), 10, lease(300));
    claimed.sort((a, b) => a.recipient.localeCompare(b.recipient));
    expect(claimed.map((c) => [c.recipient, c.attempts])).toEqual([['first@example.com', 2], ['second@example.com', 1]]);
    await store.emailQueue.release([stale!]);
    expect(await rowOf(stale!.id)).toMatchObject({ claimId: claimed[0]!.claimId, attempts: 2 });

    await store.emailQueue.release(claimed);
    for (const c of claimed) expect(await rowOf(c.id)).toMatchObject({ lockedUntil: null, claimId: null, attempts: c.attempts - 1, sentAt: null });
    await store.emailQueue.release([]);
    const again = await store.emailQueue.claimDue(clock.now(), 10, lease(300));
    again.sort((a, b) => a.recipient.localeCompare(b.recipient));
    expect(again.map((c) => [c.recipient, c.attempts])).toEqual([['first@example.com', 2], ['second@example.com', 1]]);
    for (const c of again) await store.emailQueue.markSent(c, clock.now());
  });

  it('a row given up on is kept with its error, counted as failed and never claimed again', async () => {
    const counts = await store.emailQueue.countByState();
    await enqueue('gone@example.com');
    await enqueue('later@example.com');
    const claimed = await store.emailQueue.claimDue(clock.now(), 10, lease(1));
    const gone = claimed.find((c) => c.recipient === 'gone@example.com')!;
    expect(gone.createdAt).toEqual(clock.now());
    await store.emailQueue.markFailed(claimed.find((c) => c.recipient === 'later@example.com')!, 'ESOCKET', lease(60), false);
    clock.advance(2);
    const [current] = await store.emailQueue.claimDue(clock.now(), 1, lease(300));
    expect(current!.id).toBe(gone.id);
    await store.emailQueue.markUndeliverable(gone, 'stale claim', clock.now()); // its lease ended: no effect
    await expect(store.emailQueue.countByState()).resolves.toEqual({ queued: counts.queued + 2, failed: counts.failed });
    await store.emailQueue.markUndeliverable(current!, '550 5.1.1 no such user', clock.now());
    expect(await rowOf(gone.id)).toMatchObject({ failedAt: clock.now(), sentAt: null, lastError: '550 5.1.1 no such user', lockedUntil: null, claimId: null, attempts: 2 });
    await expect(store.emailQueue.countByState()).resolves.toEqual({ queued: counts.queued + 1, failed: counts.failed + 1 });
    await store.emailQueue.markFailed(current!, 'late', lease(1), false); // a failed row does not come back
    clock.advance(86_400);
    const again = await store.emailQueue.claimDue(clock.now(), 10, lease(300));
    expect(again.map((c) => c.recipient)).toEqual(['later@example.com']);
    await store.emailQueue.markSent(again[0]!, clock.now());
    await expect(store.emailQueue.countByState()).resolves.toEqual({ queued: counts.queued, failed: counts.failed + 1 });
  });
});

/** The purge job is SQL only (the in-memory tables live as long as the process). */
describe.each(SQL_ADAPTERS)('email outbox purge on $name', (adapter) => {
  let store: Store;
  const clock = new ManualClock(new Date('2026-03-01T00:00:00.000Z'));

  beforeAll(async () => {
    store = await adapter.start({ clock });
  });
  afterAll(async () => store?.stop());

  it('purges sent and failed rows after the retention, never a queued one', async () => {
    const lease = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);
    for (const to of ['sent@example.com', 'failed@example.com', 'queued@example.com']) {
      await store.uow.run((tx) => tx.emails.enqueue({ to, subject: 's', text: 't', html: 'h' }));
    }
    const claimed = await store.emailQueue.claimDue(clock.now(), 10, lease(60));
    await store.emailQueue.markSent(claimed.find((c) => c.recipient === 'sent@example.com')!, clock.now());
    await store.emailQueue.markUndeliverable(claimed.find((c) => c.recipient === 'failed@example.com')!, '550', clock.now());
    await store.emailQueue.markFailed(claimed.find((c) => c.recipient === 'queued@example.com')!, 'ESOCKET', lease(60 * 86400), false);

    clock.advance(6 * 86_400);
    await expect(store.purge!(clock.now())).resolves.toMatchObject({ sentEmails: 0, failedEmails: 0 });
    clock.advance(86_400 + 1);
    await expect(store.purge!(clock.now())).resolves.toMatchObject({ sentEmails: 1, failedEmails: 1 });
    expect((await store.emails()).map((row) => row.recipient)).toEqual(['queued@example.com']);
    await expect(store.emailQueue.countByState()).resolves.toEqual({ queued: 1, failed: 0 });
  });
});
