import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Names nobody (no account has it): an invitation recorded with it is redeemed without the roles beyond `user`. */
const NOBODY = '00000000-0000-0000-0000-000000000000';

/**
 * `users.invited_by`: the admin who invited the account (stop 52, an outside review: an invitation granting `admin`
 * stayed redeemable, with its roles, after the inviting admin was suspended, demoted or deleted; with a stolen admin
 * token, the usual clean-up left the attacker a way back in). Redeeming the invitation drops the roles beyond `user`
 * when that admin no longer is one. No foreign key: a deleted inviter must leave the id, which then names nobody.
 *
 * Accounts still waiting for their first password get their inviter from the audit trail: the actor of the account's
 * latest `user.invited` or `user.roles_changed` entry, whose roles the link would carry (NULL when that was the CLI).
 * One whose trail is gone (AUDIT_RETENTION purged it) and whose roles go beyond `user` gets an id that names nobody,
 * so its link no longer carries them: nothing says which admin granted them (stop 53, a review: left NULL, such a link
 * kept its roles whoever was removed since, and a reset mails such an account a fresh one). Every other row NULL.
 *
 * The trail is read before `users` is locked (stop 53, a review: read under the ALTER's lock, it held every query on
 * `users` for 1.2 s at 10^6 users and 10^7 audit rows), and the lock is waited for at most 5 s: a transaction holding
 * `users` longer fails the migration (run it again) instead of queueing every request behind the ALTER meanwhile.
 */
export class UserInvitedBy1764660000000 implements MigrationInterface {
  name = 'UserInvitedBy1764660000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Few rows (accounts without a password), each read through the audit trail's (subject_id, occurred_at) index.
    await queryRunner.query(
      `CREATE TEMPORARY TABLE user_invited_by_backfill AS
       SELECT u.id, CASE WHEN latest.found THEN latest.actor_id ELSE '${NOBODY}'::uuid END AS invited_by
         FROM users u
         LEFT JOIN LATERAL (
           SELECT true AS found, a.actor_id FROM audit_events a
            WHERE a.subject_id = u.id AND a.type IN ('user.invited', 'user.roles_changed') AND a.outcome = 'success'
            ORDER BY a.occurred_at DESC, a.type = 'user.roles_changed' DESC LIMIT 1) latest ON true
        WHERE NOT EXISTS (SELECT 1 FROM user_credentials c WHERE c.user_id = u.id AND c.type = 'password')
          AND (latest.found OR NOT (u.roles <@ ARRAY['user']::text[]))`,
    );
    const [{ lock_timeout: lockTimeout }] = (await queryRunner.query(`SHOW lock_timeout`)) as { lock_timeout: string }[];
    await queryRunner.query(`SELECT set_config('lock_timeout', '5s', true)`);
    await queryRunner.query(`ALTER TABLE users ADD COLUMN invited_by uuid NULL`);
    await queryRunner.query(`UPDATE users u SET invited_by = b.invited_by FROM user_invited_by_backfill b WHERE u.id = b.id`);
    await queryRunner.query(`DROP TABLE user_invited_by_backfill`);
    await queryRunner.query(`SELECT set_config('lock_timeout', $1, true)`, [lockTimeout]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE users DROP COLUMN invited_by`);
  }
}
