import { createDataSource } from '@infrastructure/persistence/typeorm/data-source';
import { dependencyUnreachable } from '@interface/dependency-outage';
import { createScratchDatabase, describeWhen, REAL_POSTGRES_SELECTED } from '../../support/servers';

/**
 * After a failover, writes can reach a server that takes none (a demoted primary, a replica behind a DNS name that
 * has not caught up): PostgreSQL answers 25006. That is an outage, like an unreachable database (503 on the HTTP
 * side, retried by the event consumer and the account-request worker), not a failure of the request: until stop 48
 * the consumer dead-lettered security notices after 5 tries (an outside review, probed on a read-only session).
 */
describeWhen(REAL_POSTGRES_SELECTED, 'PostgreSQL')('a write on a read-only server', () => {
  it('fails with 25006 through TypeORM, and is classed as an outage', async () => {
    const scratch = await createScratchDatabase();
    const dataSource = createDataSource({ url: scratch.url, poolSize: 1, connectTimeoutMs: 5_000 });
    await dataSource.initialize();
    try {
      await dataSource.query('CREATE TABLE read_only_probe (id int PRIMARY KEY)');
      const failure = await dataSource
        .transaction(async (manager) => {
          await manager.query('SET TRANSACTION READ ONLY');
          await manager.query('INSERT INTO read_only_probe (id) VALUES (1)');
        })
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(failure).toMatchObject({ driverError: { code: '25006' } });
      expect(dependencyUnreachable(failure)).toBe(true);
      // A plain failure of the statement is not.
      const broken = await dataSource.query('INSERT INTO read_only_probe (id) VALUES (NULL)').then(
        () => null,
        (error: unknown) => error,
      );
      expect(broken).toMatchObject({ driverError: { code: '23502' } });
      expect(dependencyUnreachable(broken)).toBe(false);
    } finally {
      await dataSource.destroy();
      await scratch.drop();
    }
  });
});
