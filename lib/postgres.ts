import { postgresQuery } from './sources/postgres-query.js';
import { postgresWrite } from './sinks/postgres-write.js';

/** PostgreSQL in and out, over pg: `postgres.query` (a cursor source) and `postgres.write` (a batched sink). */
export const postgres = { query: postgresQuery, write: postgresWrite } as const;
