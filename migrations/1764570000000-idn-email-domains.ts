import type { MigrationInterface, QueryRunner } from 'typeorm';
import { Email } from '../src/domain/user/email';

export interface Row {
  id: string;
  email: string;
  pending_email: string | null;
}

/** What the rewrite did, printed once (nothing is printed when no stored address has an `xn--` label). */
export interface IdnRewriteReport {
  emails: number;
  pendingEmails: number;
  /** Login addresses left with their A-labels: another account holds the same address in Unicode form. */
  collisions: number;
  /** Addresses left as they are: no longer a valid address (an `xn--` label that does not decode, for one). */
  invalid: number;
}

/**
 * IDN domains in Unicode form (an outside review, 2026-12-01, stop 30). An A-label and its U-label name one DNS
 * domain, so `x@xn--bcher-kva.example` and `x@bücher.example` are one mailbox; the service kept the label as typed
 * and so stored two addresses (two accounts for one inbox: the pre-hijacking path). `Email` now decodes A-labels,
 * and this rewrites the stored `users.email` and `users.pending_email` that have one into that canonical form, with
 * the domain's own function, so a row is found by exactly the value lookups compute.
 *
 * A login address whose canonical form another row already has, or would get, is left as it is (the unique index
 * holds) and counted: those are the pairs an outside reviewer could create, one mailbox with two accounts, and an
 * operator must resolve them (README, "IDN domains"). A pending address is always rewritten (no unique index): left
 * with its A-labels, confirming it would give the mailbox a second account; rewritten, the unique index refuses that
 * confirmation, as for any address taken after a change was asked. A pending address that is the account's own
 * login address is dropped (nothing to confirm, as `User.requestEmailChange` does).
 *
 * Down leaves the Unicode forms: they were valid before too, and which rows had A-labels is not kept.
 */
export class IdnEmailDomains1764570000000 implements MigrationInterface {
  name = 'IdnEmailDomains1764570000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const rows: Row[] = await queryRunner.query(
      `SELECT id, email, pending_email FROM users WHERE email ILIKE '%xn--%' OR pending_email ILIKE '%xn--%' ORDER BY id FOR UPDATE`,
    );
    if (rows.length === 0) return;
    const report = await rewriteAddresses(queryRunner, rows, (stored) => stored.toLowerCase().includes('xn--'));
    printReport(this.name, report);
  }

  async down(): Promise<void> {
    // Nothing to undo: see the class comment.
  }
}

/**
 * Rewrites the rows' login and pending addresses to what `Email` makes of them now (the rules of the class comment);
 * `counted(stored)`: whether a stored address that is no longer valid is counted as `invalid`.
 */
export async function rewriteAddresses(queryRunner: QueryRunner, rows: Row[], counted: (stored: string) => boolean): Promise<IdnRewriteReport> {
  const report: IdnRewriteReport = { emails: 0, pendingEmails: 0, collisions: 0, invalid: 0 };
  const emails = await rewriteEmails(queryRunner, rows, report, counted);
  for (const row of rows) {
    if (row.pending_email === null) continue;
    const canonical = canonicalOrCount(row.pending_email, report, counted);
    if (canonical === undefined || canonical === row.pending_email) continue;
    const pending = canonical === (emails.get(row.id) ?? Email.canonicalize(row.email)) ? null : canonical;
    await queryRunner.query(`UPDATE users SET pending_email = $2 WHERE id = $1`, [row.id, pending]);
    report.pendingEmails += 1;
  }
  return report;
}

/** Rewrites the login addresses that can be; returns each rewritten row's new address by id. */
async function rewriteEmails(queryRunner: QueryRunner, rows: Row[], report: IdnRewriteReport, counted: (stored: string) => boolean): Promise<Map<string, string>> {
  const wanted = new Map<string, string>();
  for (const row of rows) {
    const canonical = canonicalOrCount(row.email, report, counted);
    if (canonical !== undefined && canonical !== row.email) wanted.set(row.id, canonical);
  }
  const targets = [...wanted.values()];
  const held: { email: string }[] = targets.length === 0 ? [] : await queryRunner.query(`SELECT email FROM users WHERE email = ANY($1::text[])`, [targets]);
  const taken = new Set(held.map((row) => row.email));
  const rewritten = new Map<string, string>();
  for (const [id, canonical] of wanted) {
    // Held by a row already, or wanted by two rows: either way two accounts for one mailbox, left to an operator.
    if (taken.has(canonical) || targets.indexOf(canonical) !== targets.lastIndexOf(canonical)) {
      report.collisions += 1;
      continue;
    }
    await queryRunner.query(`UPDATE users SET email = $2 WHERE id = $1`, [id, canonical]);
    rewritten.set(id, canonical);
    report.emails += 1;
  }
  return rewritten;
}

/** The canonical address, or undefined (counted when `counted` says so: here, an `xn--` label the new rule refuses). */
function canonicalOrCount(stored: string, report: IdnRewriteReport, counted: (stored: string) => boolean): string | undefined {
  const canonical = Email.parse(stored)?.value;
  if (canonical === undefined && counted(stored)) report.invalid += 1;
  return canonical;
}

function printReport(name: string, report: IdnRewriteReport): void {
  const line =
    `${name}: rewrote ${report.emails} login and ${report.pendingEmails} pending address(es) to their Unicode (U-label) form; ` +
    `left ${report.collisions} login address(es) whose Unicode form another account has (one mailbox, two accounts: ` +
    `an operator must resolve each pair, see README "IDN domains") and ${report.invalid} that are no longer valid addresses`;
  console.warn(line);
}
