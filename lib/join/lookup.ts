import type { TransformCallback } from 'node:stream';
import { checkInteger, checkOptions, fail, named, optionNames } from '../core/validate.js';
import { callService, type CallServiceOptions, type ServiceMetrics, type ServiceStage } from '../service/index.js';
import type { Joined } from './combine.js';
import { commonOptions, JoinBase, type JoinOptions, type JoinStage } from './join-stage.js';
import { keyId, resolveOn, type JoinKey } from './keys.js';
import { LruCache } from './lookup-cache.js';
import { END, SideReader } from './side-reader.js';

/** What a lookup function answers for a batch of keys: the values found (keys not in it are missing). */
export type LookupResult<V> = ReadonlyMap<unknown, V | null | undefined> | Iterable<readonly [unknown, V | null | undefined]>;

/**
 * Fetches the values of a batch of distinct keys (one round trip): a key is one column's value,
 * or the list of values for a key of several columns. `signal` aborts on timeout or destroy.
 */
export type LookupFunction<V> = (keys: unknown[], context: { signal: AbortSignal; attempt: number }) => PromiseLike<LookupResult<V>> | LookupResult<V>;

/** What `lookup` reads from: a function of a batch of keys, or a table in memory (a Map, or an object keyed by the key as a string). */
export type LookupSource<V> = LookupFunction<V> | ReadonlyMap<unknown, V> | Readonly<Record<string, V>>;

export interface LookupOptions<L, V, Out> extends Omit<JoinOptions<L, V, Out>, 'on' | 'type'>, Pick<CallServiceOptions<L, unknown, unknown>, 'concurrency' | 'retries' | 'timeoutMs' | 'rate' | 'maxWaitMs'> {
  /** The key of each row: a column, a list of columns or a function. */
  on: JoinKey<L>;
  /** `left`: a row whose key is missing keeps `null` columns; `inner`: it is dropped. @default 'left' */
  type?: 'left' | 'inner';
  /** Distinct keys per call of a lookup function. @default 500 */
  batchSize?: number;
  /**
   * The value for a missing key in a `left` lookup: e.g. `{ fine: 0 }`, so that every row has
   * the same columns from the first (null fills only the columns of a value already seen).
   * @default null
   */
  missing?: V;
  /** Values kept between batches (least recently used go first); `maxEntries: 0` for none. @default { maxEntries: 10_000 } */
  cache?: { maxEntries?: number };
}

const LOOKUP_OPTIONS = optionNames<LookupOptions<unknown, unknown, unknown>>('lookup()', {
  on: true, type: true, signal: true, highWaterMark: true, merge: true, prefix: true, concurrency: true, retries: true, timeoutMs: true, rate: true, maxWaitMs: true, batchSize: true, missing: true, cache: true,
});
const CACHE_OPTIONS = optionNames<NonNullable<LookupOptions<unknown, unknown, unknown>['cache']>>('cache', { maxEntries: true });

/** What the lookup did (beside each side's counts). */
export interface LookupMetrics {
  /** Keys answered from the cache, and keys that were not in it (each distinct key of a batch once). */
  cacheHits: number;
  cacheMisses: number;
  cacheEvictions: number;
  /** Distinct keys sent to the lookup function, and its calls (retries included). */
  keysQueried: number;
  calls: number;
}

/** `lookup()`'s stage. */
export interface LookupStage<L, Out> extends JoinStage<L, Out> {
  readonly lookupMetrics: Readonly<LookupMetrics>;
  /** The metrics of the batched calls (retries, timeouts, …) when a lookup function is used. */
  readonly serviceMetrics: Readonly<ServiceMetrics> | null;
}

interface Looked<L, V> {
  row: L;
  value: V | null;
}

const isMap = (v: unknown): v is ReadonlyMap<unknown, unknown> => v instanceof Map;

/**
 * Invariants: a key is asked of the store at most once while it stays in the cache (and,
 * across batches in flight, at most once at a time: a batch waits for an earlier batch's
 * answer for a key instead of asking again); rows leave in input order; the calls run under
 * callService's batching, retries, timeouts and backpressure.
 */
class LookupStageImpl<L, V, Out> extends JoinBase<L, V, Out> implements LookupStage<L, Out> {
  readonly lookupMetrics: LookupMetrics = { cacheHits: 0, cacheMisses: 0, cacheEvictions: 0, keysQueried: 0, calls: 0 };
  private readonly keyOf: (row: L) => unknown[] | null;
  private readonly cache: LruCache<V>;
  private readonly inFlight = new Map<string, Promise<V | null>>();
  private readonly service: ServiceStage<L, Looked<L, V>> | null = null;
  private readonly results: SideReader | null = null;
  private pumping: Promise<void> | null = null;
  private readonly table: ((key: unknown) => V | null) | null = null;
  private readonly missing: V | null;

  constructor(name: string, source: LookupSource<V>, options: LookupOptions<L, V, Out>, batchSize: number, maxEntries: number) {
    const c = commonOptions<L, V, Out>({ ...options, type: options.type ?? 'left' }, LOOKUP_OPTIONS);
    super(name, null, c, true);
    this.keyOf = this.keys.left;
    this.cache = new LruCache<V>(maxEntries);
    this.missing = options.missing ?? null;
    if (typeof source === 'function') {
      const service = callService<L, Looked<L, V>>((rows, context) => this.fetch(source, rows, context), {
        batchSize, concurrency: options.concurrency, retries: options.retries, timeoutMs: options.timeoutMs, rate: options.rate, maxWaitMs: options.maxWaitMs,
      });
      // The batched calls are the lookup's own: their errors (a BatchError, a timeout) name it, not callService().
      (service as { stage: string }).stage = name;
      this.service = service as unknown as ServiceStage<L, Looked<L, V>>;
      this.results = new SideReader(service);
      service.on('error', (error) => this.destroy(error));
    } else if (isMap(source)) {
      this.table = (key) => (source.get(key) as V | undefined) ?? null;
    } else {
      this.table = (key) => (Object.hasOwn(source, String(key)) ? (source as Record<string, V>)[String(key)]! : null);
    }
  }

  get serviceMetrics(): Readonly<ServiceMetrics> | null {
    return this.service?.metrics ?? null;
  }

  private keyValue(key: unknown[]): unknown {
    return key.length === 1 ? key[0] : key;
  }

  /** One call's worth: each row's value from the cache, an earlier batch in flight, or one call for the rest. */
  private async fetch(fn: LookupFunction<V>, rows: L[], context: { signal: AbortSignal; attempt: number }): Promise<Looked<L, V>[]> {
    const keys = rows.map((row) => this.keyOf(row)); // checked once already, on the way in
    const values = new Map<string, V | null | Promise<V | null>>();
    const ask: unknown[] = [];
    const askIds: string[] = [];
    const seen = new Set<string>();
    for (const key of keys) {
      if (key === null) continue;
      const id = keyId(key);
      if (seen.has(id)) continue;
      seen.add(id);
      const cached = this.cache.get(id);
      if (cached !== undefined) {
        this.lookupMetrics.cacheHits++;
        values.set(id, cached);
        continue;
      }
      this.lookupMetrics.cacheMisses++;
      const pending = this.inFlight.get(id);
      if (pending) {
        values.set(id, pending);
        continue;
      }
      ask.push(this.keyValue(key));
      askIds.push(id);
    }
    if (ask.length > 0) {
      const call = this.call(fn, ask, askIds, context);
      const mine = askIds.map((id, i) => {
        const one = call.then((found) => found[i]!);
        one.catch(() => undefined);
        this.inFlight.set(id, one);
        values.set(id, one);
        return one;
      });
      // A call given up on (timed out: its retry calls again) is no longer one to wait for.
      const forget = (): void => askIds.forEach((id, i) => this.inFlight.get(id) === mine[i] && this.inFlight.delete(id));
      context.signal.addEventListener('abort', forget, { once: true });
      try {
        await call;
      } finally {
        context.signal.removeEventListener('abort', forget);
        forget();
      }
    }
    const out: Looked<L, V>[] = [];
    for (let i = 0; i < rows.length; i++) {
      const key = keys[i]!;
      out.push({ row: rows[i]!, value: key === null ? null : await values.get(keyId(key))! });
    }
    return out;
  }

  private async call(fn: LookupFunction<V>, ask: unknown[], askIds: string[], context: { signal: AbortSignal; attempt: number }): Promise<(V | null)[]> {
    this.lookupMetrics.calls++;
    this.lookupMetrics.keysQueried += ask.length;
    const answer = await fn(ask, { signal: context.signal, attempt: context.attempt });
    const found = new Map<string, V | null>();
    for (const [key, value] of isMap(answer) ? answer.entries() : answer) {
      if (key !== null && key !== undefined) found.set(keyId(Array.isArray(key) && ask.length > 0 && Array.isArray(ask[0]) ? key : [key]), value ?? null);
    }
    const values = askIds.map((id) => found.get(id) ?? null);
    askIds.forEach((id, i) => this.cache.set(id, values[i]!));
    this.lookupMetrics.cacheEvictions = this.cache.evictions;
    return values;
  }

  override _transform(row: L, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    if (this.droppedPastLimit(callback)) return; // no lookup call for a row past a take(n)'s limit
    // The key is taken here, so that a failing key function names the row in input order.
    let key: unknown[] | null;
    try {
      key = this.keyOf(row);
    } catch (error) {
      callback(this.rowError('left', this.stats.in, row, error));
      return;
    }
    if (this.table) {
      try {
        this.answer(row, key === null ? null : this.table(this.keyValue(key)), key === null);
      } catch (error) {
        callback(this.rowError('left', this.stats.in, row, error)); // (a value the output cannot take)
        return;
      }
      callback();
      return;
    }
    this.pumping ??= this.pump().catch((error) => void this.destroy(error as Error));
    if (this.service!.write(row)) callback();
    else this.waitDrain(callback);
  }

  private waitDrain(callback: TransformCallback): void {
    const service = this.service!;
    const done = (): void => {
      service.off('drain', done);
      service.off('close', done);
      callback();
    };
    service.on('drain', done);
    service.on('close', done);
  }

  /** Passes the looked-up rows on as they come back, waiting for room. */
  private async pump(): Promise<void> {
    const results = this.results!;
    for (let x = await results.next(); x !== END && !this.destroyed; x = await results.next()) {
      const { row, value } = x as Looked<L, V>;
      const key = this.keyOf(row);
      const index = this.metrics.left.rows + 1; // (rows are answered in input order)
      try {
        this.answer(row, value, key === null);
      } catch (error) {
        throw this.rowError('left', index, row, error);
      }
      const room = this.room();
      if (room) await room;
    }
  }

  private answer(row: L, value: V | null, nullKey: boolean): void {
    this.metrics.left.rows++;
    if (value !== null && value !== undefined) {
      this.metrics.left.matched++;
      this.output(row, row, value);
      return;
    }
    this.metrics.left.unmatched++;
    if (nullKey) this.metrics.left.nullKeys++;
    if (this.keepLeft) this.output(row, row, this.missing);
    else this.stats.filtered++;
  }

  override _flush(callback: TransformCallback): void {
    if (!this.service) {
      callback();
      return;
    }
    this.pumping ??= this.pump().catch((error) => void this.destroy(error as Error));
    this.service.end();
    this.pumping.then(() => {
      if (!this.destroyed) callback();
    }, callback);
  }

  protected override async release(): Promise<void> {
    await this.results?.close();
  }
}

/**
 * Enriches each row from another store, `{ ...row, ...value }`: a lookup function (called
 * with a batch of distinct keys, one round trip per batch — `postgres.lookup` makes one
 * from a query), or a table in memory (a `Map`, or an object keyed by the key as a string).
 * Values are kept in a bounded LRU cache, so a key is asked once while it stays there;
 * calls run with callService's `retries`, `timeoutMs`, `rate` and `concurrency`. A row
 * whose key is missing (or null) keeps `null` columns, or `missing` (`type: 'left'`), or is
 * dropped (`'inner'`). Rows keep their order.
 *
 * @example
 * const fines = new Map([['21', { fine: 65 }], ['38', { fine: 35 }]]);
 * await run(csv.read('tickets.csv', { rows: 'objects' }), lookup(fines, { on: 'Violation Code' }), csv.write('with-fines.csv'));
 */
export function lookup<L = any, V = any, Out = Joined<L, V>>(source: LookupSource<V>, options: LookupOptions<L, V, Out>): LookupStage<L, Out> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return named('lookup()', () => {
    const o = checkOptions('options', options, LOOKUP_OPTIONS);
    if (typeof source !== 'function' && (typeof source !== 'object' || source === null || Array.isArray(source))) {
      fail('source', 'a lookup function, a Map or an object', source);
    }
    if (o.type !== undefined && o.type !== 'left' && o.type !== 'inner') fail('type', "one of 'left', 'inner'", o.type);
    resolveOn(o.on);
    const batchSize = o.batchSize === undefined ? 500 : checkInteger('batchSize', o.batchSize, 1);
    const cache = checkOptions('cache', o.cache, CACHE_OPTIONS);
    const maxEntries = cache.maxEntries === undefined ? 10_000 : checkInteger('cache.maxEntries', cache.maxEntries, 0);
    return new LookupStageImpl<L, V, Out>(`lookup(${typeof source === 'function' ? source.name : ''})`, source, options, batchSize, maxEntries);
  });
}
