/**
 * The lookup's cache (pure): a bounded LRU of key identity → value (`null` for a key the
 * store did not have, so a missing key is not asked again either), with hit accounting.
 * A Map keeps insertion order: a hit moves its entry to the end, the oldest goes first.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, V | null>();
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached value (null: known missing), or undefined when not cached; counts a hit or a miss. */
  get(id: string): V | null | undefined {
    const value = this.entries.get(id);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(id);
    this.entries.set(id, value);
    return value;
  }

  set(id: string, value: V | null): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(id);
    this.entries.set(id, value);
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
      this.evictions++;
    }
  }
}
