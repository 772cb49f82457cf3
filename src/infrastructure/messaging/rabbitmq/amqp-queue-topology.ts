/** The queues of one subscriber: its own, its retry queue and its dead-letter queue, and their arguments. */

export interface QueueNames {
  queue: string;
  retry: string;
  deadLetter: string;
}

export function queueNames(prefix: string, subscriber: string): QueueNames {
  const queue = `${prefix}${subscriber}`;
  return { queue, retry: `${queue}.retry`, deadLetter: `${queue}.dlq` };
}

type QueueArguments = Record<string, string>;

/**
 * The arguments each of a subscriber's three queues is declared with. Classic queues keep exactly the
 * declaration of earlier versions (a redeclaration with other arguments fails with PRECONDITION_FAILED).
 * Quorum queues: every queue `x-queue-type: quorum` (durable, never exclusive or auto-delete, no priorities:
 * none of which these queues use); dead-lettering at least once (`x-dead-letter-strategy`, which requires
 * `x-overflow: reject-publish`), so the hop from the retry queue back to the queue is confirmed inside the
 * broker too. The queue itself dead-letters into the dead-letter queue: only a message over the broker's
 * delivery limit (RabbitMQ 4 sets 20 by default) takes that path, instead of being dropped.
 */
export function queueArguments(type: 'classic' | 'quorum', names: QueueNames): { queue: QueueArguments; retry: QueueArguments; deadLetter: QueueArguments } {
  const backToQueue = { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.queue };
  if (type === 'classic') return { queue: {}, retry: backToQueue, deadLetter: {} };
  const quorum = { 'x-queue-type': 'quorum' };
  const atLeastOnce = { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };
  return {
    queue: { ...quorum, ...atLeastOnce, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.deadLetter },
    retry: { ...quorum, ...atLeastOnce, ...backToQueue },
    deadLetter: quorum,
  };
}

/** No `arguments` key at all for none: the classic declaration stays byte-for-byte what it was. */
export function withArguments(args: QueueArguments): { arguments?: QueueArguments } {
  return Object.keys(args).length === 0 ? {} : { arguments: args };
}
