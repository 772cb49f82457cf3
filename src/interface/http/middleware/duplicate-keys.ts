import { Errors } from '@application/shared/errors';

/**
 * I-JSON (RFC 7493 §2.3): object member names must be unique. JSON.parse keeps the last of duplicates, a proxy
 * or WAF in front may keep the first, so `{"email":"a","email":"b"}` could mean two things: refuse it.
 * Runs on text JSON.parse already accepted, in one pass; names are compared decoded ("a" equals "\u0061").
 */
export function assertNoDuplicateKeys(text: string): void {
  const frames: { keys: Set<string> | null; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    const top = frames[frames.length - 1];
    if (c === '{') frames.push({ keys: new Set(), expectKey: true });
    else if (c === '[') frames.push({ keys: null, expectKey: false });
    else if (c === '}' || c === ']') frames.pop();
    else if (c === ',' && top?.keys) top.expectKey = true;
    else if (c === '"') {
      const end = endOfString(text, i);
      if (top?.keys && top.expectKey) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(name)) throw Errors.validation('body', `must not repeat the key ${JSON.stringify(name)}`);
        top.keys.add(name);
        top.expectKey = false;
      }
      i = end;
    }
  }
}

/** Index of the closing quote of the string that opens at `start`. */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}
