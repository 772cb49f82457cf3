/**
 * An asymmetric matcher for a number in [low, high]: for figures a real clock decides (a Retry-After counted on
 * Redis's clock, which goes on while a loaded machine runs the test), where an exact value fails on a stall of a second.
 */
export function within(low: number, high: number): { asymmetricMatch(value: unknown): boolean; toString(): string; toAsymmetricMatcher(): string } {
  return {
    asymmetricMatch: (value: unknown) => typeof value === 'number' && value >= low && value <= high,
    toString: () => `within(${low}, ${high})`,
    toAsymmetricMatcher: () => `within(${low}, ${high})`,
  };
}
