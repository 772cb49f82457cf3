import { EventTypes, type ChangedProfileField } from '../shared/event-types';
import { DomainErrors } from '../shared/errors';
import type { Email } from './email';
import type { Username } from './username';
import type { ProfileChanges } from './user-state';
import { UserBase } from './user-base';

/** The User aggregate's profile and address verbs: names, the username, the address's proof and its change. */
export abstract class UserWithProfile extends UserBase {
  verifyEmail(now: Date): void {
    if (this.state.emailVerified) return;
    this.state.emailVerified = true;
    if (this.state.status === 'pending_verification') this.state.status = 'active';
    this.touch(now);
    this.record(EventTypes.UserEmailVerified, this.id, now, { user_id: this.id, email: this.email });
  }

  /** `undefined` leaves a field as it is, `null` clears it. Returns the fields that changed (event only then). */
  updateProfile(changes: ProfileChanges, now: Date): ChangedProfileField[] {
    const changed: ChangedProfileField[] = [];
    const set = <K extends 'username' | 'firstName' | 'lastName'>(key: K, value: string | null | undefined, field: ChangedProfileField) => {
      if (value === undefined || value === this.state[key]) return;
      this.state[key] = value;
      changed.push(field);
    };
    set('username', changes.username === undefined ? undefined : (changes.username?.value ?? null), 'username');
    set('firstName', changes.firstName, 'first_name');
    set('lastName', changes.lastName, 'last_name');
    if (changed.length > 0) {
      this.touch(now);
      this.record(EventTypes.UserUpdated, this.id, now, { user_id: this.id, changed });
    }
    return changed;
  }

  /**
   * The owner's own profile edit (PATCH /users/me): updateProfile, and a username change is a credential change too
   * (`auth.credentials.updated`, `changed: ["username"]`), as the same change through PUT /users/me/credentials is
   * (until stop 51 only `auth.user.updated` told of it: a review).
   */
  editProfile(changes: ProfileChanges, now: Date): ChangedProfileField[] {
    const changed = this.updateProfile(changes, now);
    if (changed.includes('username')) this.credentialsUpdated(now, ['username']);
    return changed;
  }

  changeUsername(username: Username | null, now: Date): boolean {
    const value = username?.value ?? null;
    if (value === this.state.username) return false;
    this.state.username = value;
    this.credentialsUpdated(now, ['username']);
    return true;
  }

  /**
   * Sets the address to confirm; a newer request replaces an older one. Asking for the address already in use
   * cancels a pending change and returns false (nothing to confirm).
   */
  requestEmailChange(email: Email, now: Date): boolean {
    const pending = email.value === this.state.email ? null : email.value;
    if (pending !== this.state.pendingEmail) this.touch(now);
    this.state.pendingEmail = pending;
    return pending !== null;
  }

  /**
   * Drops a pending email change (password reset or change, global logout): whoever asked for it may no longer
   * be entitled to, so its link must stop working. Returns whether there was one.
   */
  cancelEmailChange(now: Date): boolean {
    if (this.state.pendingEmail === null) return false;
    this.state.pendingEmail = null;
    this.touch(now);
    return true;
  }

  /**
   * Makes the pending address the login address; returns the address it replaced. The account's first proven address
   * (one whose earlier address was never proven: REQUIRE_EMAIL_VERIFICATION=false) is also `auth.user.email_verified`,
   * as any first proof is (until stop 65 only `auth.credentials.updated` told of it: a review of account flows).
   */
  confirmEmailChange(now: Date): string {
    const next = this.state.pendingEmail;
    if (next === null) throw DomainErrors.invalidLink();
    const previous = this.state.email;
    const firstProof = !this.state.emailVerified;
    this.state.email = next;
    this.state.pendingEmail = null;
    this.state.emailVerified = true;
    if (this.state.status === 'pending_verification') this.state.status = 'active';
    this.credentialsUpdated(now, ['email']);
    if (firstProof) this.record(EventTypes.UserEmailVerified, this.id, now, { user_id: this.id, email: this.email });
    return previous;
  }
}
