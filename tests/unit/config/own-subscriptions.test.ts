import { loadConfig } from '@config/env';
import { eventSubscribers } from '@config/subscribers';
import { OWN_SUBSCRIPTIONS } from '@interface/events/own-subscriptions';

/**
 * The publisher declares OWN_SUBSCRIPTIONS' queues before it publishes (a review of stop 60); the subscribers are
 * made by eventSubscribers. A subscriber added to one list and not the other would have its events dropped by a
 * broker that had no queue for it yet.
 */
describe('the service\'s own subscriptions', () => {
  it('are the queues and bindings of the subscribers the service starts', () => {
    const started = eventSubscribers(loadConfig({})).map(({ name, patterns }) => ({ name, patterns: [...patterns] }));
    expect(started.length).toBeGreaterThan(0);
    expect(OWN_SUBSCRIPTIONS.map(({ name, patterns }) => ({ name, patterns: [...patterns] }))).toEqual(started);
  });
});
