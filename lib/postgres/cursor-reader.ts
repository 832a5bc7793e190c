import type Cursor from 'pg-cursor';
import type pg from 'pg';
import { pgModule } from './pg-module.js';
import type { Batch, Reader } from './reader.js';
import type { TypeParsers } from './types.js';

/** A server-side portal (pg-cursor): Parse/Bind once, then Execute `count` rows at a time. */
export class CursorReader implements Reader {
  private readonly cursor: Cursor;
  private reading = false;

  constructor(client: pg.ClientBase, sql: string, params: unknown[] | undefined, rowMode: 'object' | 'array', types: TypeParsers | undefined, onError: (error: Error) => void) {
    this.cursor = new (pgModule().Cursor)(sql, params, { ...(rowMode === 'array' ? { rowMode: 'array' } : {}), ...(types ? { types } : {}) });
    // Errors that arrive while no read is pending (the backend was terminated while the
    // consumer was slow) would otherwise wait for the next read.
    this.cursor.on('error', onError);
    client.query(this.cursor);
  }

  private get state(): string {
    return (this.cursor as unknown as { state: string }).state;
  }

  read(count: number): Promise<Batch> {
    this.reading = true;
    return new Promise((resolve, reject) => {
      this.cursor.read(count, (error, rows) => {
        this.reading = false;
        if (error) reject(error);
        else resolve({ rows, done: rows.length < count || this.state === 'done' });
      });
    });
  }

  executing(): boolean {
    // Not pg-cursor's 'busy': its RowDescription handler sets 'idle' while the first
    // Execute still runs (a slow first batch would look idle).
    return this.reading;
  }

  async close(): Promise<void> {
    // After an error pg-cursor has already sent Sync; closing again would wait for a
    // ReadyForQuery that has come and gone.
    if (this.state === 'done' || this.state === 'error') return;
    await this.cursor.close();
  }
}
