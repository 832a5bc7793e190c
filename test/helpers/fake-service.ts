/**
 * A real HTTP service on 127.0.0.1:0 that misbehaves on purpose (TESTPLAN harness): each
 * request gets a scripted reply — status, headers, delay, hang, socket reset — and the
 * service records what it saw: bodies, idempotency keys, arrival times, the most requests
 * in progress at once, open sockets, and the effects it committed (once per key when it
 * de-duplicates). `close()` ends every socket; call it in an `after`/`afterEach` hook.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface Reply {
  /** @default 200 */
  status?: number;
  headers?: Record<string, string>;
  /** Wait this long before answering (after committing, for a 2xx). */
  delayMs?: number;
  /** Never answer; the request stays open until the client gives up or `close()`. */
  hang?: boolean;
  /** Destroy the socket after reading the request: the client sees a connection reset. */
  reset?: boolean;
  /** The JSON answer. @default for 2xx `{ results: respond(rows) }`, else `{ error: 'HTTP <status>' }` */
  body?: unknown;
}

export interface Received {
  /** 1-based arrival order. */
  readonly n: number;
  readonly body: unknown;
  readonly key: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** `performance.now()` when the request arrived (headers read). */
  readonly at: number;
  status?: number;
  /** The JSON answer sent (or to be sent after a delay); undefined for a hang or a reset. */
  answer?: unknown;
  /** The client closed the request before the answer was sent. */
  aborted: boolean;
}

export interface FakeServiceOptions {
  /** Results for a batch of rows (2xx answers); may mark items failed. @default each row as its own result */
  respond?: (rows: unknown[], request: Received) => unknown[];
  /** Commit once per idempotency key: a repeat gets the first answer again. @default false */
  dedupe?: boolean;
}

export class FakeService {
  readonly requests: Received[] = [];
  /** Replies for the next requests, in order; afterwards `reply()` decides. */
  readonly script: Reply[] = [];
  /** The reply once the script is used up (may look at the request). */
  reply: (request: Received) => Reply = () => ({});
  /** The results of a committed request; set from `options.respond`, may be replaced by a test. */
  respond: (rows: unknown[], request: Received) => unknown[];
  /** Effects applied: one entry per committed request (per key when de-duplicating). */
  readonly effects: { key: string | undefined; rows: number }[] = [];
  /** Requests in progress now, and the most at once. */
  active = 0;
  maxActive = 0;
  private readonly sockets = new Set<Socket>();
  private readonly answers = new Map<string, unknown>();
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  private constructor(private readonly server: Server, readonly url: string, private readonly options: FakeServiceOptions) {
    this.respond = options.respond ?? ((rows) => rows);
  }

  static async start(options: FakeServiceOptions = {}): Promise<FakeService> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const service = new FakeService(server, `http://127.0.0.1:${port}/batch`, options);
    server.on('connection', (socket: Socket) => {
      service.sockets.add(socket);
      socket.on('close', () => service.sockets.delete(socket));
    });
    server.on('request', (req, res) => service.handle(req, res));
    return service;
  }

  /** Sockets open on the server side now. */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Arrival times relative to the first request, in ms. */
  get arrivals(): number[] {
    const first = this.requests[0]?.at ?? 0;
    return this.requests.map((r) => r.at - first);
  }

  /** Resolves once `count` requests have arrived in all. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Ends every connection (hung requests included) and stops listening. */
  async close(): Promise<void> {
    const sockets = [...this.sockets].map((socket) => (socket.closed ? undefined : once(socket, 'close')));
    this.server.closeAllConnections();
    this.server.close();
    await Promise.all([once(this.server, 'close'), ...sockets]);
  }

  private handle(req: import('node:http').IncomingMessage, res: ServerResponse): void {
    const at = performance.now();
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    let ended = false;
    const record: Received = {
      n: this.requests.length + 1, body: undefined, key: header(req.headers['idempotency-key']), headers: req.headers, at, aborted: false,
    };
    res.on('close', () => {
      this.active--;
      if (!res.writableFinished) record.aborted = true;
      ended = true;
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        (record as { body: unknown }).body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        (record as { body: unknown }).body = Buffer.concat(chunks).toString('utf8');
      }
      this.requests.push(record);
      for (const waiter of this.waiters.filter((w) => this.requests.length >= w.count)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      const reply = this.script.length > 0 ? this.script.shift()! : this.reply(record);
      if (reply.reset) {
        req.socket.destroy();
        return;
      }
      if (reply.hang) return;
      const status = reply.status ?? 200;
      record.status = status;
      let body = reply.body;
      if (body === undefined) {
        if (status >= 200 && status < 300) body = this.commit(record);
        else body = { error: `HTTP ${status}` };
      }
      record.answer = body;
      const send = () => {
        if (ended) return;
        res.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(body));
      };
      if (reply.delayMs) {
        const timer = setTimeout(send, reply.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else {
        send();
      }
    });
  }

  /** Applies a batch: once per request, or once per key when de-duplicating. */
  private commit(record: Received): unknown {
    if (this.options.dedupe && record.key !== undefined && this.answers.has(record.key)) return this.answers.get(record.key);
    const rows = Array.isArray(record.body) ? record.body : [];
    const answer = { results: this.respond(rows, record) };
    this.effects.push({ key: record.key, rows: rows.length });
    if (record.key !== undefined) this.answers.set(record.key, answer);
    return answer;
  }
}

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** The most requests that arrived within any window of `windowMs` (by arrival time). */
export function mostInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
