/**
 * One number per row of a run (where its record or its key codes start), off the V8 heap, in
 * blocks of 2¹⁶ rows (pure). The first block starts small and doubles (a run of a few rows
 * under a tiny budget holds kilobytes, not a whole block) unless the pool has a block; whole
 * blocks come from, and go back to, a pool the stage keeps across its runs. `bytes` is what is allocated.
 */
const BLOCK_BITS = 16;
const BLOCK = 1 << BLOCK_BITS;
const FIRST = 256;

export class Positions {
  private readonly blocks: Float64Array[] = [];
  bytes = 0;

  constructor(private readonly pool: Float64Array[]) {}

  /** Sets row `i`'s number; rows are set in order, 0 first. */
  set(i: number, value: number): void {
    const b = i >>> BLOCK_BITS;
    const j = i & (BLOCK - 1);
    if (b === this.blocks.length) this.grow(b === 0 ? FIRST : BLOCK, b);
    else if (j === this.blocks[b]!.length) this.grow(this.blocks[b]!.length * 2, b);
    this.blocks[b]![j] = value;
  }

  get(i: number): number {
    return this.blocks[i >>> BLOCK_BITS]![i & (BLOCK - 1)]!;
  }

  private grow(size: number, b: number): void {
    const next = this.pool.pop() ?? new Float64Array(size); // a pooled (whole) block at once: memory held already
    const old = this.blocks[b];
    if (old) {
      next.set(old);
      this.bytes -= old.byteLength;
    }
    this.blocks[b] = next;
    this.bytes += next.byteLength;
  }

  /** Gives the whole blocks back to the pool (nothing reads these positions after). */
  release(): void {
    for (const block of this.blocks) if (block.length === BLOCK) this.pool.push(block);
    this.blocks.length = 0;
    this.bytes = 0;
  }
}
