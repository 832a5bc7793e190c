import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';

/**
 * Stands in for an HTTP response at the end of a pipeline, so that a failure before the
 * response has begun leaves it to the handler: stream.pipeline would destroy the response,
 * and with it the socket, so a handler's 404 or 400 naming the bad line could never be
 * sent. Once headers are out, a failure cuts the response (destroys it): the client sees a
 * broken body, never a complete-looking 200. A response closed by the client closes this
 * too, which fails the pipeline as a premature close (run() says "destination closed").
 */
export class ResponseGuard extends Writable {
  constructor(readonly response: ServerResponse) {
    super({ highWaterMark: response.writableHighWaterMark, decodeStrings: false });
    // Closed without an error, as the response itself closes: stream.pipeline then fails
    // with its premature close, and run() sees the destination closed first.
    const closedEarly = () => {
      if (!response.writableFinished) this.destroy();
    };
    const failed = (error: Error) => this.destroy(error);
    response.once('close', closedEarly);
    response.once('error', failed);
    this.once('close', () => {
      response.off('close', closedEarly);
      response.off('error', failed);
    });
    if (response.destroyed) this.destroy(); // gone before the pipeline began
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.response.write(chunk, encoding)) callback();
    else this.response.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.response.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error && this.response.headersSent && !this.response.writableFinished) this.response.destroy(error);
    callback(error);
  }
}
