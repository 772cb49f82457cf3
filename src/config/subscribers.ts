import type { Logger } from 'pino';
import { ProcessEventOnce } from '@application/shared/process-event-once';
import { SendSecurityNotice } from '@application/account/send-security-notice';
import { EventConsumer, type ConsumerPolicy } from '@interface/events/event-consumer';
import type { EventSubscriber } from '@interface/events/event-subscriber';
import { SecurityNoticeSubscriber } from '@interface/events/security-notice.subscriber';
import { authSettings } from './container';
import type { AppConfig } from './env';
import type { Infrastructure } from './infrastructure';

/** The service's own subscribers, each on its own queue. */
export function eventSubscribers(config: AppConfig): EventSubscriber[] {
  return [new SecurityNoticeSubscriber(new SendSecurityNotice(authSettings(config)))];
}

/** Subscribes every subscriber, then lets deliveries begin. */
export async function startSubscribers(
  config: AppConfig,
  logger: Logger,
  infra: Infrastructure,
  policy: Partial<ConsumerPolicy> = {},
): Promise<void> {
  const consumer = new EventConsumer(
    infra.events.subscriptions,
    new ProcessEventOnce(infra.unitOfWork, infra.clock),
    logger.child({ component: 'subscribers' }),
    policy,
  );
  for (const subscriber of eventSubscribers(config)) await consumer.start(subscriber);
  infra.events.startDelivery();
}
