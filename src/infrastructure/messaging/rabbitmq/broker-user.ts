/**
 * The user an AMQP URL logs in as, as amqplib reads it: `guest` when the URL names no user and no password, else
 * the URL's user name, percent-decoded. RabbitMQ checks a message's `user_id` property against this name (a
 * publisher that sets another one loses its channel), so it is what the service stamps on its events and what its
 * consumers trust by default.
 */
export function brokerUser(url: string): string {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return 'guest';
  return decodeURIComponent(parsed.username);
}

/**
 * Who may have published an event a consumer acts on: the `user_id` RabbitMQ validated on publication. An absent
 * `user_id` is trusted by no list: anyone can leave it out.
 */
export class TrustedPublishers {
  private readonly users: ReadonlySet<string> | 'everyone';

  /** `['*']` trusts every message, with or without a user id (the check off, e.g. during an upgrade). */
  constructor(users: readonly string[]) {
    this.users = users.includes('*') ? 'everyone' : new Set(users);
  }

  trusts(userId: unknown): boolean {
    if (this.users === 'everyone') return true;
    return typeof userId === 'string' && this.users.has(userId);
  }
}
