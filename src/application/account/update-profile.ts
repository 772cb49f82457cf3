import { inject, injectable } from 'inversify';
import type { User } from '@domain/user/user';
import { personName } from '@domain/user/person-name';
import { Username } from '@domain/user/username';
import { selfAuditEntry } from '../shared/audit-entry';
import type { ClientContext } from '../shared/client-context';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { lockAskingAccount } from '../shared/asking-session';
import type { AuthSettings } from '../shared/auth-settings';
import { PORTS } from '../ports/tokens';

/** `undefined`: leave as it is; `null`: clear. */
export interface UpdateProfileInput {
  userId: string;
  /** The session asking (the access token's `sid`). */
  sessionId: string;
  username?: string | null | undefined;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  client: ClientContext;
}

/** Names and username; a taken username answers USERNAME_TAKEN (the unique constraint decides, not a lookup). */
@injectable()
export class UpdateProfile {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: UpdateProfileInput): Promise<User> {
    const username = input.username === undefined || input.username === null ? input.username : Username.create(input.username);
    const firstName = personName(input.firstName, 'first_name');
    const lastName = personName(input.lastName, 'last_name');
    return this.uow.run(async (repos) => {
      const { user, now } = await lockAskingAccount(repos, input, this.clock, this.settings.requireEmailVerification);
      const changed = user.editProfile({ username, firstName, lastName }, now);
      if (changed.length === 0) return user;
      await repos.users.save(user);
      await repos.audit.record(selfAuditEntry('profile.updated', input.client, user.id, now));
      // The username is a sign-in name: its change is in the owner's activity as one made through PUT
      // /users/me/credentials is (credentials.updated, reason `username`). Until stop 48 it was only
      // profile.updated, which the activity feed leaves out: a stolen token's rename left the owner no trace.
      // A change made, with its reason (selfAuditEntry's fifth argument is a failure's reason: until stop 51 each
      // rename was recorded as a failed credentials update, a review).
      if (changed.includes('username')) await repos.audit.record({ ...selfAuditEntry('credentials.updated', input.client, user.id, now), reason: 'username' });
      return user;
    });
  }
}
