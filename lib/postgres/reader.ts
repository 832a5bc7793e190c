/** What `postgres.query` reads through: a cursor, keyset pages or COPY, each in a file of its own (pg-*-reader.ts). */

/** One fetch's rows; `done` once no more will come. */
export interface Batch {
  rows: unknown[];
  done: boolean;
}

/** One way of fetching batches on a leased client. */
export interface Reader {
  read(count: number): Promise<Batch>;
  /** True while a statement of ours runs on the server (cancelling it means something). */
  executing(): boolean;
  /** After an early stop, on a healthy connection: leave the client ready for the next user. */
  close(): Promise<void>;
}
