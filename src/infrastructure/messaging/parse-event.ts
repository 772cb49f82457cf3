import type { IntegrationEvent } from '@application/ports/event-publisher';

/** A CloudEvent from the wire, or null when it is not one (such a message goes to the dead-letter queue). */
export function parseIntegrationEvent(content: Buffer | string): IntegrationEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(typeof content === 'string' ? content : content.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const event = value as Record<string, unknown>;
  const strings = ['id', 'type', 'source', 'subject', 'time'].every((key) => typeof event[key] === 'string');
  const data = typeof event.data === 'object' && event.data !== null && !Array.isArray(event.data);
  return strings && data && event.specversion === '1.0' ? (value as IntegrationEvent) : null;
}
