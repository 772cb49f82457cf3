/**
 * A migrated PGlite cluster, made once and copied: an embedded app or store in a fresh directory otherwise spends
 * about 5 s in PGlite's initdb and the migrations (measured, per start), and the suites start a hundred of them.
 * The template is built by the same code (startEmbeddedPostgres, runMigrations) into a private directory and moved
 * into place by one rename, so concurrent jest workers never see half of it; its name carries a hash of the
 * migrations' sources and of PGlite's version, so a changed migration gets a new template. It holds the schema
 * only: signing keys, the encryption key file and every row are made by each app as on a first start.
 * `tests/integration/persistence/embedded-postgres.test.ts` and the migrations suite still start from nothing.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEmbeddedPostgres } from '@infrastructure/persistence/embedded/embedded-postgres';
import { createDataSource, runMigrations } from '@infrastructure/persistence/typeorm/data-source';

const ROOT = resolve(__dirname, '../..');

/** Feeds the migrations' names and sources to `hash`: a template made by them is named after it (also servers.ts's). */
export function hashMigrations(hash: Hash): Hash {
  const dir = join(ROOT, 'migrations');
  for (const name of readdirSync(dir).sort()) hash.update(name).update(readFileSync(join(dir, name)));
  return hash;
}

function templateKey(): string {
  const hash = hashMigrations(createHash('sha256'));
  hash.update(readFileSync(join(ROOT, 'node_modules/@electric-sql/pglite/package.json')));
  return hash.digest('hex').slice(0, 16);
}

let template: Promise<string> | null = null;

/** The template's pgdata directory, built on first use in this process (or found, built by another). */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const home = join(tmpdir(), `auth-service-pgdata-${templateKey()}`);
    const pgdata = join(home, 'pgdata');
    if (existsSync(join(pgdata, 'PG_VERSION'))) return pgdata;
    const build = mkdtempSync(join(tmpdir(), `auth-service-pgdata-build-${randomBytes(4).toString('hex')}-`));
    const embedded = await startEmbeddedPostgres(build);
    const dataSource = createDataSource({ url: embedded.url, poolSize: 1 });
    try {
      await dataSource.initialize();
      await runMigrations(dataSource);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded.stop(); // PGlite flushes its files: the copy is a cleanly shut down cluster
    }
    try {
      renameSync(build, home);
    } catch {
      rmSync(build, { recursive: true, force: true }); // another worker moved its own into place first
    }
    return pgdata;
  })();
  return template;
}

/** Puts a copy of the migrated cluster at `<dataDir>/pgdata`, where the embedded mode looks for it. */
export async function seedMigratedPgdata(dataDir: string): Promise<void> {
  cpSync(await migratedTemplate(), join(dataDir, 'pgdata'), { recursive: true });
}
