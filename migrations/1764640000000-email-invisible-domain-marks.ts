import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rewriteAddresses, type Row } from './1764570000000-idn-email-domains';

/** Invisible code points (Default_Ignorable_Code_Point): what the rows this migration reads hold. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

/**
 * Marks UTS #46 ignores are not part of a domain (an outside review, stop 49). The mailer's domainToASCII drops the
 * variation selectors, the combining grapheme joiner and the Mongolian free variation selectors, so
 * `victim@examp\uFE0Fle.com` is example.com's inbox; `Email` kept them, and each invisible spelling was another
 * account for that inbox. `Email` now drops them from the domain (and refuses other invisible code points); this
 * rewrites the stored `users.email` and `users.pending_email` that hold one, with the domain's own function and the
 * rules of IdnEmailDomains1764570000000: a login address another account already has (the account of the plain
 * spelling: the pair a pre-hijacking made) is left as it is and counted, for an operator (README, "IDN domains"),
 * and the mailer never sends to it; a pending address is rewritten, or dropped when it is the account's own address;
 * an address that is no longer valid at all (an invisible code point `Email` refuses) is left and counted.
 *
 * Only non-ASCII rows are read (octet length above character length), then filtered here: PostgreSQL's regular
 * expressions have no Unicode properties. Down leaves the new forms: the old ones were never wanted.
 */
export class EmailInvisibleDomainMarks1764640000000 implements MigrationInterface {
  name = 'EmailInvisibleDomainMarks1764640000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const nonAscii: Row[] = await queryRunner.query(
      `SELECT id, email, pending_email FROM users
        WHERE octet_length(email) <> char_length(email) OR octet_length(pending_email) <> char_length(pending_email)
        ORDER BY id FOR UPDATE`,
    );
    const rows = nonAscii.filter((row) => INVISIBLE.test(row.email) || (row.pending_email !== null && INVISIBLE.test(row.pending_email)));
    if (rows.length === 0) return;
    const report = await rewriteAddresses(queryRunner, rows, (stored) => INVISIBLE.test(stored));
    console.warn(
      `${this.name}: rewrote ${report.emails} login and ${report.pendingEmails} pending address(es) without the invisible marks of their domain; ` +
        `left ${report.collisions} login address(es) whose plain form another account has (one mailbox, two accounts: ` +
        `an operator must resolve each pair, see README "IDN domains") and ${report.invalid} that are no longer valid addresses`,
    );
  }

  async down(): Promise<void> {
    // Nothing to undo: see the class comment.
  }
}
