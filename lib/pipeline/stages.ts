import type { ServerResponse } from 'node:http';
import { Duplex, Readable, Writable, type Stream } from 'node:stream';
import { chain } from 'stream-chain';
import { isHeaderFollower, isHeaderSource } from '../core/fusion.js';
import { isIncomingMessage, isServerResponse } from '../core/builtins.js';
import { isStage, type Stage } from '../core/stage.js';
import { callUser, calledAs, invalid } from '../core/validate.js';
import { batchRows } from './batch-rows.js';
import { fuseProjection } from './fuse-projection.js';
import { fuseWhere } from './fuse-where.js';
import { fuseTextRows } from './fuse-text-rows.js';
import { ResponseGuard } from './response-guard.js';
import { SourceGate } from './source-gate.js';

/** What may stand first: a Readable, an (async) iterable, or a function returning either. */
export type SourceLike =
  | NodeJS.ReadableStream
  | Readable
  | AsyncIterable<unknown>
  | Iterable<unknown>
  | (() => AsyncIterable<unknown> | Iterable<unknown> | Readable);

/**
 * What may stand after the source: any Duplex/Transform (sluice stages, stream-chain
 * chains), a plain function (consecutive functions are fused into one stream-chain
 * `chain`, with its rules: return `chain.none` to drop a row), or a Writable as the sink.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StageLike = Duplex | Writable | NodeJS.WritableStream | ((row: any) => unknown);

export interface Chain {
  gate: SourceGate;
  streams: Stream[];
  stages: Stage[];
  /** Every stream the caller gave or we made, including the source, for the close wait. */
  all: Stream[];
}

const isReadable = (value: unknown): value is Readable =>
  value instanceof Readable || (typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function' && typeof (value as Readable).read === 'function');

const isIterable = (value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && (Symbol.asyncIterator in value || Symbol.iterator in value);

/** Whether a value may stand first: checked when a join is made (a function's result is known only when it runs). */
export const isSourceLike = (value: unknown): boolean => typeof value === 'function' || isReadable(value) || isIterable(value);

function toReadable(source: unknown): Readable {
  const value = typeof source === 'function' ? callUser(source as () => unknown) : source;
  if (isReadable(value)) return value;
  if (typeof value === 'string') {
    throw invalid('Expected a source (a Readable, an iterable of rows or a generator), got a string; to read a file use csv.read(path)');
  }
  if (isIterable(value)) return Readable.from(value, { objectMode: true });
  throw invalid(`Expected a source (a Readable, an iterable of rows or a generator), got ${value === null ? 'null' : typeof value}`);
}

function toStream(stage: unknown, position: number): Stream {
  if (stage instanceof Duplex || stage instanceof Writable) return stage;
  if (stage && typeof (stage as Writable).write === 'function' && typeof (stage as Writable).on === 'function') return stage as Writable;
  throw invalid(`Expected stage ${position} to be a stream or a function, got ${stage === null ? 'null' : typeof stage}`);
}

/**
 * Whether a failed or stopped pipeline leaves the source to its caller instead of
 * destroying it: `keepSource` when given, else true for an HTTP request body (destroying
 * it would reset the connection before the handler can answer).
 */
export const keepsSource = (source: unknown, keepSource: boolean | undefined): boolean =>
  keepSource ?? isIncomingMessage(source);

/** Normalises `[source, ...stages]` into the streams that `stream.pipeline` will join. */
export function buildChain(items: readonly unknown[], keepSource?: boolean): Chain {
  if (items.length === 0) throw invalid('Expected at least a source');
  const source = toReadable(items[0]);
  const streams: Stream[] = [];
  let functions: ((row: unknown) => unknown)[] = [];
  const flush = () => {
    if (functions.length > 0) streams.push(chain(functions) as unknown as Duplex);
    functions = [];
  };
  items.slice(1).forEach((item, i) => {
    if (typeof item === 'function') functions.push(item as (row: unknown) => unknown);
    else {
      flush();
      streams.push(toStream(item, i + 1));
    }
  });
  flush();
  checkJoins([source, ...streams]);
  // An HTTP response not yet begun is left to the handler when the pipeline fails (see there).
  const last = streams.length - 1;
  if (last >= 0 && isServerResponse(streams[last])) streams[last] = new ResponseGuard(streams[last] as ServerResponse);
  // `csv.read(…)` then `select(columns)`: the source reads only those columns (see there).
  if (streams[0] === items[1] && fuseProjection(source, streams[0])) streams.shift();
  // …then `where(conditions)`: the source drops rows it can tell fail them (see there).
  fuseWhere(source, streams[0]);
  // …or `addColumn(…, { reads })` and a CSV sink: rows pass through as their text (see there).
  fuseTextRows(source, streams);
  // csv stages hand their rows to a sluice stage after them in batches (see there).
  const gate = new SourceGate(source, batchRows(source, streams), keepsSource(source, keepSource));
  // An object-row source with a header, and a CSV sink taking its header from the rows.
  if (isHeaderSource(source)) for (const stream of streams) if (isHeaderFollower(stream)) stream.followHeaders(source);
  gate.downstream = streams.filter((stream): stream is Readable => typeof (stream as Readable).read === 'function');
  streams.unshift(gate);
  return { gate, streams, stages: [source, ...streams].filter(isStage), all: [source, ...streams] };
}

/** `csv.read(data/x.csv)` → `csv.read()`: a stage's name as the user called it. */
const called = (stage: Stage): string => calledAs(stage.stage);

/**
 * A sluice stage that takes bytes (csv.parse) right after one that gives rows (csv.read,
 * map, …) would throw Node's ERR_INVALID_ARG_TYPE naming an internal class on the first
 * row, outside the pipeline: say it in the user's terms, before anything runs.
 */
function checkJoins(streams: readonly Stream[]): void {
  for (let i = 1; i < streams.length; i++) {
    const before = streams[i - 1];
    const next = streams[i];
    if (isStage(before) && before.readableObjectMode && isStage(next) && !next.writableObjectMode) {
      throw new TypeError(`${called(next)} expects bytes or text, got rows from ${called(before)}`);
    }
  }
}

/** Resolves once every stream that was destroyed has emitted `'close'`. */
export function allClosed(streams: readonly Stream[]): Promise<unknown> {
  return Promise.all(
    streams.map((s) => {
      const stream = s as Readable & { closed?: boolean };
      if (!stream.destroyed || stream.closed) return undefined;
      const state = (stream as unknown as { _readableState?: { emitClose?: boolean }; _writableState?: { emitClose?: boolean } });
      if ((state._readableState ?? state._writableState)?.emitClose === false) return undefined;
      return new Promise((resolve) => stream.once('close', resolve));
    }),
  );
}
