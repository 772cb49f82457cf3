import { SECURITY_NOTICES_SUBSCRIPTION } from './security-notice.subscriber';

/**
 * The queues and bindings of the service's own subscribers (config/subscribers.ts makes them; a test holds the two
 * lists equal): the publisher declares them before its first publish on each connection (config/messaging.ts), so no
 * event for them is routed to no queue, and dropped, on a broker that had none yet.
 */
export const OWN_SUBSCRIPTIONS: readonly { name: string; patterns: readonly string[] }[] = [SECURITY_NOTICES_SUBSCRIPTION];
