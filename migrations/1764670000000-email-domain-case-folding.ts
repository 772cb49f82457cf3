import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rewriteAddresses, type Row } from './1764570000000-idn-email-domains';

/**
 * The letters UTS #46 case-folds in a domain where `Email`'s per-code-point lower case left them (see email.ts): in
 * NFD, the iota subscript stands on its own.
 */
const CASE_FOLDED = /[\u0345\u1C80-\u1C88]/u;

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

function folded(address: string | null): boolean {
  return address !== null && CASE_FOLDED.test(domainOf(address).normalize('NFD'));
}

/**
 * Letters UTS #46 case-folds in a domain (an outside review, 2026-12-07): the iota subscript (alone or in a
 * precomposed Greek letter such as `ᾳ`) and the old Cyrillic variants U+1C80-1C88. The mailer's domainToASCII maps
 * them, so `ivan@п\u1C82ч\u1C84а.рф` is почта.рф's inbox; `Email` kept them, and each such spelling was another
 * account for one inbox. `Email` now maps them; this rewrites the stored `users.email` and `users.pending_email`
 * whose domain holds one, with the domain's own function and the rules of IdnEmailDomains1764570000000: a login
 * address another account already has (the pair a pre-hijacking made) is left and counted, for an operator (README,
 * "IDN domains"); a pending address is rewritten, or dropped when it is the account's own address.
 *
 * Only non-ASCII rows are read, then filtered here (PostgreSQL's regular expressions are not used on code points).
 * Down leaves the new forms: the old ones were never wanted.
 */
export class EmailDomainCaseFolding1764670000000 implements MigrationInterface {
  name = 'EmailDomainCaseFolding1764670000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const nonAscii: Row[] = await queryRunner.query(
      `SELECT id, email, pending_email FROM users
        WHERE octet_length(email) <> char_length(email) OR octet_length(pending_email) <> char_length(pending_email)
        ORDER BY id FOR UPDATE`,
    );
    const rows = nonAscii.filter((row) => folded(row.email) || folded(row.pending_email));
    if (rows.length === 0) return;
    const report = await rewriteAddresses(queryRunner, rows, (stored) => folded(stored));
    console.warn(
      `${this.name}: rewrote ${report.emails} login and ${report.pendingEmails} pending address(es) with their domain case-folded as UTS #46 does; ` +
        `left ${report.collisions} login address(es) whose folded form another account has (one mailbox, two accounts: ` +
        `an operator must resolve each pair, see README "IDN domains") and ${report.invalid} that are no longer valid addresses`,
    );
  }

  async down(): Promise<void> {
    // Nothing to undo: see the class comment.
  }
}
