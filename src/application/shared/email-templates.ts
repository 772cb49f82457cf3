import type { EmailMessage } from '../ports/mailer';
import { addressInNotice, link, message, NOT_YOU, page, thisAddress, validFor } from './email-message';

export { addressInNotice, link, page, validFor } from './email-message';

export function verificationEmail(to: string, publicUrl: string, token: string, ttlSeconds: number): EmailMessage {
  return message(
    to,
    'Verify your email address',
    [
      'Confirm that this address belongs to you to finish creating your account.',
      `The link is valid for ${validFor(ttlSeconds)} and can be used once. If you did not sign up, ignore this email.`,
    ],
    { label: 'Verify email', url: link(publicUrl, 'verify-email', token) },
  );
}

export function emailChangeVerificationEmail(to: string, publicUrl: string, token: string, ttlSeconds: number): EmailMessage {
  return message(
    to,
    'Confirm your new email address',
    [
      'You asked to use this address for your account. Until you confirm it, you keep signing in with your current address.',
      `The link is valid for ${validFor(ttlSeconds)} and can be used once. If you did not ask for this, ignore this email.`,
    ],
    { label: 'Confirm email address', url: link(publicUrl, 'verify-email', token) },
  );
}

export function passwordResetEmail(to: string, publicUrl: string, token: string, ttlSeconds: number): EmailMessage {
  return message(
    to,
    'Reset your password',
    [
      'Someone, hopefully you, asked to reset the password of the account that uses this address.',
      `The link is valid for ${validFor(ttlSeconds)} and can be used once; it signs out every device. If you did not ask for this, ignore this email: your password stays as it is.`,
    ],
    { label: 'Choose a new password', url: link(publicUrl, 'reset-password', token) },
  );
}

/**
 * After a link set the account's first password (an invitation redeemed, or a contested sign-up finished): until an
 * outside review (2026-12-08) it said "Your password was changed", which an invitee had never had.
 */
export function passwordSetEmail(to: string, publicUrl: string): EmailMessage {
  return message(to, 'Your account now has a password', ['A password was just chosen for your account, and it is ready to use.', NOT_YOU], {
    label: 'Reset your password',
    url: page(publicUrl, 'reset-password'),
  });
}

export function passwordChangedEmail(to: string, publicUrl: string): EmailMessage {
  return message(to, 'Your password was changed', ['The password of your account was just changed.', NOT_YOU], {
    label: 'Reset your password',
    url: page(publicUrl, 'reset-password'),
  });
}

/**
 * To the current address when a change to another one is requested: until the new address is confirmed, a
 * password reset from this address stops it (it voids the pending change and its link).
 */
export function emailChangeRequestedEmail(to: string, newAddress: string, publicUrl: string): EmailMessage {
  return message(
    to,
    'A change of your email address was requested',
    [
      `Someone signed in to your account asked to sign in with ${addressInNotice(newAddress)} instead of ${thisAddress(to)}. It takes effect only once the link sent to the new address is followed.`,
      'If this was not you, reset your password now: that cancels the change and signs out every device.',
    ],
    { label: 'Reset your password', url: page(publicUrl, 'reset-password') },
  );
}

/**
 * To the address that was replaced, once the new one is confirmed. No reset link: a reset would now go to the
 * new address, so someone who lost the account this way needs support, not a link.
 */
export function emailChangedEmail(to: string, newAddress: string): EmailMessage {
  return message(to, 'Your email address was changed', [
    `Your account now signs in with ${addressInNotice(newAddress)}; ${thisAddress(to)} no longer does.`,
    'If you did not make this change, contact support at once: someone else may control your account.',
  ]);
}

/** Sent instead of a second account when someone registers with an address that already has one. */
export function accountExistsEmail(to: string, publicUrl: string): EmailMessage {
  return message(
    to,
    'You already have an account',
    [
      'Someone, hopefully you, tried to create an account with this address, but it already has one: no new account was created.',
      'If you forgot your password, you can reset it. If it was not you, ignore this email.',
    ],
    { label: 'Reset your password', url: page(publicUrl, 'reset-password') },
  );
}

/**
 * Sent when an address whose account was never verified is registered again: the password chosen at sign-up is
 * gone (two people asked, and only the mailbox's owner reads this), and the link sets one and proves the address.
 */
export function registrationContestedEmail(to: string, publicUrl: string, token: string, ttlSeconds: number): EmailMessage {
  return message(
    to,
    'Choose a password to finish creating your account',
    [
      'This address was registered more than once before it was verified, so we cannot tell which password is yours: no password from those sign-ups works any more, and earlier verification links are void.',
      `Choose a password with this link to finish creating your account; doing so also confirms the address. The link is valid for ${validFor(ttlSeconds)} and can be used once. If you did not sign up, ignore this email.`,
    ],
    { label: 'Choose a password', url: link(publicUrl, 'reset-password', token) },
  );
}

/** After DELETE /users/me (`by: 'owner'`) or DELETE /admin/users/:id (`by: 'admin'`): who deleted it, nothing more. */
export function accountDeletedEmail(to: string, by: 'owner' | 'admin'): EmailMessage {
  if (by === 'admin') {
    return message(to, 'Your account was deleted', [
      'Your account and its sessions were deleted by an administrator.',
      'If you think this is a mistake, contact support.',
    ]);
  }
  return message(to, 'Your account was deleted', [
    'Your account and its sessions were deleted as you asked. You can register again with this address at any time.',
    'If you did not ask for this, contact support.',
  ]);
}

/**
 * To someone whose registration lost its username to another account between the answer and the worker (a race
 * of two sign-ups, or a profile's username change): no account was created, and the address learns nothing about
 * who took the name. The name itself is not repeated: whoever took it (or asked for it) chose that text, and a
 * service email must not carry an attacker's words (a domain-like name would be a link in many mail clients).
 */
export function registrationNotCompletedEmail(to: string, publicUrl: string): EmailMessage {
  return message(
    to,
    'Your account was not created',
    [
      'Someone, hopefully you, tried to create an account with this address, but the username chosen for it was taken by another account meanwhile: no account was created.',
      'Register again with another username. If it was not you, ignore this email.',
    ],
    { label: 'Register', url: page(publicUrl, 'register') },
  );
}

/** Admin invitation (CONTRACT §4): a reset-type link that sets the first password and proves the address. */
export function invitationEmail(to: string, publicUrl: string, token: string, ttlSeconds: number): EmailMessage {
  return message(
    to,
    'You have been invited',
    [
      'An administrator created an account for this address. Choose a password to start using it; doing so also confirms the address.',
      `The link is valid for ${validFor(ttlSeconds)} and can be used once. If you did not expect this, ignore this email.`,
    ],
    { label: 'Choose a password', url: link(publicUrl, 'reset-password', token) },
  );
}

/**
 * An admin confirmed the address of an account that was never verified: the password it had was chosen before
 * anyone proved the address (possibly by someone else), so it was discarded; this link sets a new one.
 */
export function addressConfirmedEmail(to: string, publicUrl: string, token: string, ttlSeconds: number): EmailMessage {
  return message(
    to,
    'Choose a password for your account',
    [
      'An administrator confirmed this address for your account. A password chosen before the address was confirmed could have been chosen by someone else, so it no longer works.',
      `Choose a password with this link. It is valid for ${validFor(ttlSeconds)} and can be used once. If you did not expect this, ignore this email.`,
    ],
    { label: 'Choose a password', url: link(publicUrl, 'reset-password', token) },
  );
}

/**
 * An admin gave a never-verified account a role it did not have (PATCH /admin/users/:id): as for `create-admin`,
 * the password it was registered with could have been chosen by someone else, who would hold the role once the
 * owner proves the address; it was discarded, and this link sets a new one and proves the address.
 */
export function rolesGrantedUnprovenAddressEmail(to: string, publicUrl: string, token: string, ttlSeconds: number): EmailMessage {
  return message(
    to,
    'Choose a password for your account',
    [
      'An administrator gave the account of this address new rights. The address was never confirmed, so a password chosen for the account before could have been chosen by someone else: it no longer works.',
      `Choose a password with this link; doing so also confirms the address. It is valid for ${validFor(ttlSeconds)} and can be used once. If you did not expect this, ignore this email.`,
    ],
    { label: 'Choose a password', url: link(publicUrl, 'reset-password', token) },
  );
}

/**
 * The CLI's `create-admin` named an existing account whose address was never verified: the password it was
 * registered with could have been chosen by someone else (who would now be an admin), so it was discarded; this
 * link sets a new one and proves the address.
 */
export function adminRoleUnprovenAddressEmail(to: string, publicUrl: string, token: string, ttlSeconds: number): EmailMessage {
  return message(
    to,
    'Choose a password for your account',
    [
      'An operator gave the account of this address administrator rights. The address was never confirmed, so a password chosen for the account before could have been chosen by someone else: it no longer works.',
      `Choose a password with this link; doing so also confirms the address. It is valid for ${validFor(ttlSeconds)} and can be used once. If you did not expect this, ignore this email.`,
    ],
    { label: 'Choose a password', url: link(publicUrl, 'reset-password', token) },
  );
}
