import type pg from 'pg';
import { pgModule } from './pg-module.js';
import type { Batch, Reader } from './reader.js';
import { copyLineDecoder } from './text.js';
import { keepsText, type TypeParsers } from './types.js';

/**
 * `COPY (sql) TO STDOUT` in text format, for parameter-free queries: the server streams
 * every row without waiting for a fetch, so this is the fastest read. Rows are decoded
 * here and typed with the same parsers as the cursor (the columns' types come from a
 * `LIMIT 0` run of the query). Backpressure: once a batch is queued and nobody is reading,
 * the socket is paused, so the server blocks on its send (rows already received are
 * queued: at most one socket read more).
 */
export class CopyReader implements Reader {
  private queue: unknown[] = [];
  private waiting: { count: number; resolve: (batch: Batch) => void; reject: (error: Error) => void } | null = null;
  private done = false;
  private error: Error | null = null;
  private paused = false;
  private closing = false;
  private finished!: Promise<void>;
  private decode: (line: string) => unknown = () => undefined;

  constructor(
    private readonly client: pg.ClientBase,
    private readonly sql: string,
    private readonly rowMode: 'object' | 'array',
    private readonly types: TypeParsers | undefined,
    private readonly count: number,
  ) {}

  private get socket(): { pause(): void; resume(): void } {
    return (this.client as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection.stream;
  }

  /** Describes the result's columns, then starts the COPY. */
  async start(): Promise<void> {
    const probe = await this.client.query({ text: `SELECT * FROM (${this.sql}
) AS sluice_copy LIMIT 0`, rowMode: 'array' });
    const registry = this.types ?? (pgModule().pg.types as unknown as TypeParsers);
    const parsers = probe.fields.map((f) => {
      const parse = registry.getTypeParser(f.dataTypeID, 'text');
      return keepsText(parse) ? null : parse;
    });
    this.decode = copyLineDecoder(probe.fields.map((f) => f.name), parsers, this.rowMode);
    if (this.closing) return; // destroyed while describing: no COPY
    this.finished = new Promise<void>((resolve) => {
      const settle = (error: Error | null) => {
        if (this.done) return;
        this.done = true;
        this.error = error;
        this.resumeSocket();
        resolve();
        this.deliver();
      };
      this.client.query({
        submit: (connection: { query(text: string): void }) => connection.query(`COPY (${this.sql}
) TO STDOUT`),
        handleCopyData: (message: { chunk: Buffer }) => this.receive(message.chunk),
        handleReadyForQuery: () => settle(null),
        // pg forgets the query on an error, so the ReadyForQuery that follows is not passed
        // to it: wait for it on the connection (the backend is idle only then). A dead
        // connection sends none; the stage fails on the broken connection instead.
        handleError: (error: Error, connection?: { once(event: string, fn: () => void): void }) => {
          if (connection) connection.once('readyForQuery', () => settle(error));
          else settle(error);
        },
        handleCommandComplete() {},
        handleRowDescription() {},
        handleDataRow() {},
        handleEmptyQuery() {},
        handlePortalSuspended() {},
        handleCopyInResponse() {},
      } as never);
    });
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return; // stopped early: drain what is still coming, keep nothing
    // The server sends one CopyData message per row, ending in a newline.
    this.queue.push(this.decode(chunk.toString('utf8', 0, chunk.length - 1)));
    if (this.queue.length >= this.count) {
      if (this.waiting) this.deliver();
      else if (!this.paused) {
        this.paused = true;
        this.socket.pause();
      }
    }
  }

  private resumeSocket(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private deliver(): void {
    const waiting = this.waiting;
    if (!waiting || (!this.done && this.queue.length < waiting.count)) return;
    this.waiting = null;
    if (this.error) {
      waiting.reject(this.error);
      return;
    }
    const rows = this.queue;
    this.queue = [];
    waiting.resolve({ rows, done: this.done });
  }

  read(count: number): Promise<Batch> {
    return new Promise((resolve, reject) => {
      this.waiting = { count, resolve, reject };
      this.deliver();
      if (this.waiting) this.resumeSocket();
    });
  }

  executing(): boolean {
    return !this.done;
  }

  async close(): Promise<void> {
    // A backend blocked sending rows handles a cancel only once it can send again: read
    // (and drop) the rest until its error and ReadyForQuery arrive.
    this.closing = true;
    this.queue = [];
    this.resumeSocket();
    await this.finished;
  }
}
