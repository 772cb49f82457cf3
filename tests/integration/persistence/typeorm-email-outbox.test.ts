import { randomBytes } from 'node:crypto';
import { EmailOutboxRecord } from '@infrastructure/persistence/typeorm/entities';
import { purgeExpiredRows } from '@infrastructure/persistence/typeorm/purge-expired';
import { TypeOrmEmailQueue } from '@infrastructure/persistence/typeorm/typeorm-email-outbox';
import { TypeOrmUnitOfWork } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { ManualClock } from '@infrastructure/time/system-clock';
import { backends, type TestDatabase } from './support/backends';

const TOKEN = 'tok_' + randomBytes(16).toString('hex');

describe.each(backends)('email outbox (TypeORM) on $name', (backend) => {
  let db: TestDatabase;
  const clock = new ManualClock(new Date('2026-03-01T00:00:00.000Z'));
  const box = new AesGcmSecretBox(randomBytes(32));
  const commits: string[] = [];
  let uow: TypeOrmUnitOfWork;
  let queue: TypeOrmEmailQueue;

  beforeAll(async () => {
    db = await backend.start();
    uow = new TypeOrmUnitOfWork(db.dataSource, { secretBox: box, clock, wake: { emailSender: () => void commits.push('poke') } });
    queue = new TypeOrmEmailQueue(db.dataSource);
  });
  afterAll(async () => db?.stop());
  beforeEach(async () => {
    await db.dataSource.query('DELETE FROM email_outbox');
    commits.length = 0;
  });

  const enqueue = (to: string) =>
    uow.run((repos) => repos.emails.enqueue({ to, subject: 'Reset your password', text: `link ${TOKEN}`, html: `<a>${TOKEN}</a>` }));
  const lease = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);

  it('queues in the transaction (a rollback queues nothing), seals the bodies and pokes only after commit', async () => {
    await expect(uow.run(async (repos) => {
      await repos.emails.enqueue({ to: 'x@example.com', subject: 's', text: TOKEN, html: TOKEN });
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    expect(commits).toEqual([]);
    await expect(db.dataSource.manager.count(EmailOutboxRecord)).resolves.toBe(0);

    await enqueue('a@example.com');
    expect(commits).toEqual(['poke']);
    const rows: Record<string, unknown>[] = await db.dataSource.query('SELECT * FROM email_outbox');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(TOKEN);
    expect(rows[0]).toMatchObject({ recipient: 'a@example.com', subject: 'Reset your password', attempts: 0, sent_at: null });
    expect(box.open(rows[0]!['sealed_text'] as string)).toBe(`link ${TOKEN}`);
  });

  it('concurrent claimers get disjoint rows (FOR UPDATE SKIP LOCKED), and a lease keeps them until it ends', async () => {
    for (let i = 0; i < 30; i += 1) await enqueue(`user${i}@example.com`);
    const claims = await Promise.all([1, 2, 3, 4].map(() => queue.claimDue(clock.now(), 10, lease(300))));
    const ids = claims.flat().map((c) => c.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect(new Set(claims.flat().map((c) => c.claimId)).size).toBe(claims.filter((c) => c.length > 0).length);
    expect(claims.flat().every((c) => c.attempts === 1)).toBe(true);

    await expect(queue.claimDue(clock.now(), 50, lease(300))).resolves.toEqual([]);
    clock.advance(300);
    const again = await queue.claimDue(clock.now(), 50, lease(300));
    expect(again).toHaveLength(30);
    expect(again.every((c) => c.attempts === 2)).toBe(true);
  });

  it('a failure schedules the retry for the current claim only; sent rows are never claimed again', async () => {
    await enqueue('a@example.com');
    const [first] = await queue.claimDue(clock.now(), 10, lease(1));
    clock.advance(2);
    const [second] = await queue.claimDue(clock.now(), 10, lease(300));
    await queue.markFailed(first!, 'stale claim', lease(9999));
    let row = await db.dataSource.manager.findOneByOrFail(EmailOutboxRecord, { id: first!.id });
    expect(row).toMatchObject({ lastError: null, claimId: second!.claimId });

    await queue.markFailed(second!, 'ESOCKET: connect ECONNREFUSED', lease(60));
    row = await db.dataSource.manager.findOneByOrFail(EmailOutboxRecord, { id: first!.id });
    expect(row).toMatchObject({ lastError: 'ESOCKET: connect ECONNREFUSED', claimId: null, lockedUntil: null, attempts: 2 });
    await expect(queue.claimDue(clock.now(), 10, lease(300))).resolves.toEqual([]);
    clock.advance(60);
    const [third] = await queue.claimDue(clock.now(), 10, lease(300));
    await queue.markSent(third!, clock.now());
    clock.advance(3600);
    await expect(queue.claimDue(clock.now(), 10, lease(300))).resolves.toEqual([]);
    row = await db.dataSource.manager.findOneByOrFail(EmailOutboxRecord, { id: first!.id });
    expect(row).toMatchObject({ sentAt: expect.any(Date), lastError: null, attempts: 3 });
  });

  it('a row given up on is kept with its error, counted as failed, never claimed again, and purged after the retention', async () => {
    await enqueue('gone@example.com');
    await enqueue('later@example.com');
    const claimed = await queue.claimDue(clock.now(), 10, lease(1));
    const gone = claimed.find((c) => c.recipient === 'gone@example.com')!;
    expect(gone.createdAt).toEqual(clock.now());
    await queue.markFailed(claimed.find((c) => c.recipient === 'later@example.com')!, 'ESOCKET', lease(60));
    clock.advance(2);
    const [current] = await queue.claimDue(clock.now(), 1, lease(300));
    expect(current!.id).toBe(gone.id);
    await queue.markUndeliverable(gone, 'stale claim', clock.now()); // its lease ended: no effect
    await expect(queue.countByState()).resolves.toEqual({ queued: 2, failed: 0 });
    await queue.markUndeliverable(current!, '550 5.1.1 no such user', clock.now());
    const row = await db.dataSource.manager.findOneByOrFail(EmailOutboxRecord, { id: gone.id });
    expect(row).toMatchObject({ failedAt: clock.now(), sentAt: null, lastError: '550 5.1.1 no such user', lockedUntil: null, claimId: null, attempts: 2 });
    await expect(queue.countByState()).resolves.toEqual({ queued: 1, failed: 1 });
    await queue.markFailed(current!, 'late', lease(1)); // a failed row does not come back
    clock.advance(86_400);
    const again = await queue.claimDue(clock.now(), 10, lease(300));
    expect(again.map((c) => c.recipient)).toEqual(['later@example.com']);
    await queue.markSent(again[0]!, clock.now());

    clock.advance(6 * 86_400);
    await expect(purgeExpiredRows(db.dataSource, clock.now())).resolves.toMatchObject({ sentEmails: 0, failedEmails: 0 });
    clock.advance(86_400);
    await expect(purgeExpiredRows(db.dataSource, clock.now())).resolves.toMatchObject({ sentEmails: 0, failedEmails: 1 });
    await expect(db.dataSource.manager.count(EmailOutboxRecord)).resolves.toBe(1);
    await expect(queue.countByState()).resolves.toEqual({ queued: 0, failed: 0 });
  });
});
