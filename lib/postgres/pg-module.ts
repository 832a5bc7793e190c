/**
 * pg and pg-cursor, loaded on first use: importing pg costs ~15 MB of memory, which a
 * pipeline that never touches PostgreSQL should not pay. Every PostgreSQL stage connects
 * through `acquire()` (postgres.ts), which awaits `loadPg()` first; `pgModule()` is for
 * code that runs after that.
 */
import type Pg from 'pg';
import type PgCursor from 'pg-cursor';

export interface PgModules {
  pg: typeof Pg;
  Cursor: typeof PgCursor;
}

let loaded: PgModules | null = null;

export async function loadPg(): Promise<PgModules> {
  if (!loaded) {
    const [pg, cursor] = await Promise.all([import('pg'), import('pg-cursor')]);
    loaded = { pg: pg.default, Cursor: cursor.default };
  }
  return loaded;
}

export function pgModule(): PgModules {
  if (!loaded) throw new Error('sluice internal error: pg used before loadPg()');
  return loaded;
}
