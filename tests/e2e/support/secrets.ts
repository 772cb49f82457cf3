import type { IntegrationEvent } from '@application/ports/event-publisher';

/** Keys that would mean a secret travelled in an event (CONTRACT §6), at any depth of `data`. */
export const FORBIDDEN_KEYS = /pass(word)?|hash|token|secret|sealed|private|otp|backup|code|key|cookie|authorization/i;

/** Also the shapes of secrets whatever the key: argon2 PHC strings, JWTs, long opaque base64url strings. */
const SECRET_SHAPES = [/\$argon2/, /^eyJ[\w-]+\.[\w-]+\.[\w-]*$/, /^[A-Za-z0-9_-]{40,}$/];

/** Fails with the offending event and path when data holds a forbidden key, a known secret or a secret's shape. */
export function expectNoSecrets(events: readonly IntegrationEvent[], knownSecrets: readonly string[]): void {
  const problems: string[] = [];
  const visit = (value: unknown, path: string, event: IntegrationEvent): void => {
    if (typeof value === 'string') {
      if (knownSecrets.some((secret) => secret.length > 0 && value.includes(secret))) problems.push(`${event.type} ${path}: a known secret`);
      if (SECRET_SHAPES.some((shape) => shape.test(value))) problems.push(`${event.type} ${path}: looks like a secret`);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${path}[${i}]`, event));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (FORBIDDEN_KEYS.test(key)) problems.push(`${event.type} ${path}.${key}: forbidden key`);
        visit(child, `${path}.${key}`, event);
      }
    }
  };
  for (const event of events) visit(event.data, 'data', event);
  if (problems.length > 0) throw new Error(`events carry secrets:\n${problems.join('\n')}`);
}
