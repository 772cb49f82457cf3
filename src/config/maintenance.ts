import { purgeExpiredRows, type PurgeCounts } from '@infrastructure/persistence/typeorm/purge-expired';
import type { Infrastructure } from './infrastructure';

export async function purgeExpired(infra: Infrastructure): Promise<PurgeCounts & { signingKeysPruned: true }> {
  const counts = await purgeExpiredRows(infra.dataSource, infra.clock.now());
  await infra.keys.prune();
  return { ...counts, signingKeysPruned: true };
}
