/**
 * COPY … FROM STDIN for one batch, as a pg "submittable": pg hands it the connection, it
 * sends the statement, the whole batch as CopyData and CopyDone at once, and reports once
 * the server has answered.
 *
 * The data goes out with the statement, not after the server's CopyInResponse: waiting
 * for that costs a round trip per batch and, worse, the response is only read when the
 * event loop next polls — with a synchronous source filling the next batch that is after
 * the whole batch is filled, so the server sat idle while we encoded and we sat idle while
 * it wrote (measured: 5,000-row batches took ~15 ms instead of ~8). The protocol allows
 * it: if the statement fails before or during the copy, the server drops the CopyData,
 * CopyDone and CopyFail messages that follow ("any subsequent CopyData, CopyDone, or
 * CopyFail messages issued by the frontend will simply be dropped", protocol docs, COPY
 * Operations); PostgresMain ignores them outside a copy.
 */
export class CopyIn {
  private error: Error | null = null;
  private done = false;

  constructor(private readonly text: string, private readonly data: Buffer, private readonly callback: (error: Error | null) => void) {}

  submit(connection: { query(text: string): void; sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }): void {
    connection.query(this.text);
    // CopyData messages of at most 1 MiB, so the socket takes them in pieces.
    for (let offset = 0; offset < this.data.length; offset += 1_048_576) {
      connection.sendCopyFromChunk(this.data.subarray(offset, offset + 1_048_576));
    }
    connection.endCopyFrom();
  }

  handleCopyInResponse(): void {} // the data is already on its way (see above)
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}

  handleError(error: Error): void {
    // pg forgets the query on an error: the ReadyForQuery that follows is not ours.
    this.error = error;
    this.finish();
  }

  handleReadyForQuery(): void {
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.callback(this.error);
  }
}
