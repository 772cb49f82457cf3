/** AMQP topic matching: words separated by dots; `*` matches exactly one word, `#` zero or more. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  return match(pattern.split('.'), 0, routingKey.split('.'), 0);
}

function match(pattern: string[], p: number, key: string[], k: number): boolean {
  if (p === pattern.length) return k === key.length;
  const word = pattern[p];
  if (word === '#') {
    for (let skip = k; skip <= key.length; skip += 1) if (match(pattern, p + 1, key, skip)) return true;
    return false;
  }
  if (k === key.length) return false;
  return (word === '*' || word === key[k]) && match(pattern, p + 1, key, k + 1);
}
