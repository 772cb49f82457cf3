import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `users.invited_by`: the admin who invited the account (stop 52, an outside review: an invitation granting `admin`
 * stayed redeemable, with its roles, after the inviting admin was suspended, demoted or deleted; with a stolen admin
 * token, the usual clean-up left the attacker a way back in). Redeeming the invitation drops the roles beyond `user`
 * when that admin no longer is one. No foreign key: a deleted inviter must leave the id, which then names nobody.
 *
 * Invitations still outstanding (an invited account without a password) get their inviter from the audit trail: the
 * actor of the account's latest `user.invited` or `user.roles_changed` entry, whose roles the link would carry (NULL
 * when that was the CLI). Every other row gets NULL: nothing to check at its next password.
 */
export class UserInvitedBy1764660000000 implements MigrationInterface {
  name = 'UserInvitedBy1764660000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE users ADD COLUMN invited_by uuid NULL`);
    // Few rows (accounts without a password), each read through the audit trail's (subject_id, occurred_at) index.
    await queryRunner.query(
      `UPDATE users u SET invited_by = (
         SELECT a.actor_id FROM audit_events a
          WHERE a.subject_id = u.id AND a.type IN ('user.invited', 'user.roles_changed') AND a.outcome = 'success'
          ORDER BY a.occurred_at DESC, a.type = 'user.roles_changed' DESC LIMIT 1)
        WHERE NOT EXISTS (SELECT 1 FROM user_credentials c WHERE c.user_id = u.id AND c.type = 'password')
          AND EXISTS (SELECT 1 FROM audit_events i WHERE i.subject_id = u.id AND i.type = 'user.invited')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE users DROP COLUMN invited_by`);
  }
}
