// pg-cursor ships no types; this is the part sluice uses.
declare module 'pg-cursor' {
  import { EventEmitter } from 'node:events';
  import type { CustomTypesConfig, Submittable } from 'pg';

  interface CursorConfig {
    rowMode?: 'array';
    types?: CustomTypesConfig | { getTypeParser(oid: number, format?: string): (value: string) => unknown };
  }

  class Cursor extends EventEmitter implements Submittable {
    constructor(text: string, values?: unknown[], config?: CursorConfig);
    submit(connection: unknown): void;
    read(rows: number, callback: (error: Error | undefined, rows: unknown[]) => void): void;
    close(): Promise<void>;
    close(callback: (error?: Error) => void): void;
  }
  export = Cursor;
}
