import 'reflect-metadata';
import { runAdminCli } from './admin-cli';

/** `npm run cli -- <command>`: the admin CLI on this process's arguments, environment and streams. */
runAdminCli(process.argv.slice(2), { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then((code) => process.exit(code));
