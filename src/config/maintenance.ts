import { purgeExpiredRows, type PurgeCounts } from '@infrastructure/persistence/typeorm/purge-expired';
import { type ResealCounts, resealRows } from '@infrastructure/persistence/typeorm/reseal';
import type { Infrastructure } from './infrastructure';

/**
 * `purge-expired`: published events, sent and failed e-mails, processed requests and processed-event records go
 * once older than OUTBOX_RETENTION, as the relay's own purge has them (until 2026-12-02 the command used 7 days
 * whatever the setting: an outside review); audit entries once older than AUDIT_RETENTION, if set.
 */
export async function purgeExpired(
  infra: Infrastructure,
  retention: { outboxRetentionSeconds: number; auditRetentionSeconds: number },
): Promise<PurgeCounts & { signingKeysPruned: true }> {
  const counts = await purgeExpiredRows(infra.dataSource, infra.clock.now(), retention.outboxRetentionSeconds / 86400, {
    auditRetentionSeconds: retention.auditRetentionSeconds,
  });
  await infra.keys.prune();
  return { ...counts, signingKeysPruned: true };
}

/**
 * `reseal`: every sealed value (private signing keys, TOTP secrets, refresh tokens, queued e-mails and account
 * requests) under the current ENCRYPTION_KEY, so that ENCRYPTION_KEYS_PREVIOUS can be emptied
 * (docs/key-rotation.md).
 */
export function reseal(infra: Infrastructure): Promise<ResealCounts> {
  return resealRows(infra.dataSource, infra.secretBox);
}
