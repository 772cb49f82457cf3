/**
 * String equality whose time depends on the lengths only, not on where the strings first differ (DESIGN 11).
 * Plain TypeScript because the domain imports no node:crypto; for comparing keyed hashes of secrets.
 */
export function equalsConstantTime(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return diff === 0;
}
