import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rewriteAddresses, type Row } from './1764570000000-idn-email-domains';

/**
 * The email fold is a fixed point (an outside review, 2026-12-05, stop 46). `Email` lower-cased after NFKC and
 * stopped there, so an address whose lower case NFKC composes further (`J̌ohn@x`: `j`+U+030C, which NFKC makes `ǰ`)
 * was stored in a form that folding again changes: the address as typed and the stored value no longer found each
 * other, and `ǰohn@x` typed precomposed made a second account for the mailbox. `Email` now applies NFKC again after
 * lower-casing; this rewrites the stored `users.email` and `users.pending_email` that are not in that form, with the
 * domain's own function and the rules of IdnEmailDomains1764570000000: a login address another account already has
 * (or that two rows would both get) is left as it is and counted, for an operator (README, "IDN domains"); a
 * pending address is rewritten, or dropped when it is the account's own address. The new fold is NFKC of the old
 * one, so only rows not in NFKC are read (the `xn--` rows IdnEmailDomains1764570000000 left are not touched).
 *
 * Down leaves the new forms: the old ones were never wanted.
 */
export class EmailFoldFixedPoint1764610000000 implements MigrationInterface {
  name = 'EmailFoldFixedPoint1764610000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const rows: Row[] = await queryRunner.query(
      `SELECT id, email, pending_email FROM users
        WHERE email IS NOT NFKC NORMALIZED OR pending_email IS NOT NFKC NORMALIZED
        ORDER BY id FOR UPDATE`,
    );
    if (rows.length === 0) return;
    // Every stored address was valid: one that no longer is (none known) is left and counted.
    const report = await rewriteAddresses(queryRunner, rows, () => true);
    if (report.emails + report.pendingEmails + report.collisions + report.invalid === 0) return;
    console.warn(
      `${this.name}: rewrote ${report.emails} login and ${report.pendingEmails} pending address(es) to the fixed-point fold; ` +
        `left ${report.collisions} login address(es) whose folded form another account has (one mailbox, two accounts: ` +
        `an operator must resolve each pair, see README "IDN domains") and ${report.invalid} that are no longer valid addresses`,
    );
  }

  async down(): Promise<void> {
    // Nothing to undo: see the class comment.
  }
}
