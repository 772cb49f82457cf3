/**
 * A Map-backed LRU with a per-entry deadline: at most `maxEntries` entries (the least recently used goes first),
 * an entry past its deadline is never returned. Time is whatever `now()` says (ms).
 */
export class BoundedLru<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last: re-insert (cheap on a Map).
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores until `until` (ms); nothing when the cache holds no entries at all or the deadline has passed. */
  set(key: K, value: V, until: number): void {
    if (this.maxEntries <= 0 || until <= this.now()) return;
    this.entries.delete(key);
    this.entries.set(key, { value, until });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
