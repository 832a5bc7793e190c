/**
 * PostgreSQL in and out, over pg: `postgres.query` (a source reading through a server-side
 * cursor, keyset pages or COPY TO, a batch at a time on one connection) and
 * `postgres.write` (a sink writing batches by insert, upsert or COPY FROM).
 *
 * Read first: connection.ts (targets, leasing a client and giving it back, PostgresError),
 * then query.ts and write.ts, the two stages. A read flows: query.ts leases a client →
 * a reader (cursor-reader.ts, keyset-reader.ts or copy-reader.ts, behind reader.ts) fetches
 * a batch → rows leave typed by types.ts. A write flows: write.ts batches rows → table-plan.ts
 * checks the columns against the catalog → write-encode.ts and text.ts encode the batch →
 * write-sql.ts (or copy-in.ts) sends it in a transaction → failing-row.ts and write-error.ts
 * name the row a refused batch failed on. For runs on many workers, split.ts cuts a table
 * into key ranges and reads one through query.ts; lookup.ts answers batches of keys for
 * `lookup()` (one `= ANY($1)` query a batch).
 */
import { postgresQuery } from './query.js';
import { postgresWrite } from './write.js';
import { postgresLookup } from './lookup.js';
import { postgresSplit } from './split.js';

/**
 * PostgreSQL in and out, over pg: `postgres.query` (a cursor source), `postgres.write` (a
 * batched sink), `postgres.lookup` (a batched lookup for `lookup()`) and `postgres.split`
 * (key ranges for workers).
 */
export const postgres = { query: postgresQuery, write: postgresWrite, lookup: postgresLookup, split: postgresSplit } as const;
export type { PostgresLookupOptions } from './lookup.js';

export { PostgresError, type PgTarget } from './connection.js';
export type { TypeParsers, TypesOption } from './types.js';
export type { PostgresQueryOptions, PostgresQueryStage, KeysetOptions } from './query.js';
export { PostgresWriteError, type PostgresWriteOptions, type PostgresWriteSink } from './write.js';
export type { PostgresSplit, PostgresSplitOptions, PostgresSplitSource } from './split.js';
