import 'reflect-metadata';
import { runMigrate } from './migrate-command';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or to the embedded database under DATA_DIR). */
runMigrate(process.argv.slice(2), { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then((code) => process.exit(code));
