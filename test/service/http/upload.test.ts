import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import pg from 'pg';
import { csv, postgres, run } from '../../../lib/index.js';
import { quoteIdent, usePostgres } from '../../helpers/postgres.js';
import { closeServer, listenLocally } from '../../helpers/http-server.js';

/**
 * A real node:http upload service on 127.0.0.1 (the recipe of docs/http-service.md),
 * driven by real clients: fetch, and node:http for a client that goes away midway.
 */
describe('HTTP upload service: run(req, csv.parse(), postgres.write())', function () {
  this.timeout(30_000);
  const db = usePostgres();
  let pool: pg.Pool;
  let server: Server;
  let base: string;
  /** What each handler's run() ended with, in order: 'ok' or the error's message. */
  const outcomes: string[] = [];
  const outcome = () => once(server, 'handled') as Promise<[string]>;

  const count = async () => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${db.schema}.${quoteIdent('plates')}`)).rows[0].n);
  /** A CSV body of `rows` lines after the header; line `bad` (1-based, header is line 1) has a field missing. */
  const body = (rows: number, bad?: number) => {
    const lines = ['plate,state,seen'];
    for (let i = 2; i <= rows + 1; i++) lines.push(i === bad ? `P${i},NY` : `P${i},NY,2024-01-${String((i % 28) + 1).padStart(2, '0')}`);
    return `${lines.join('\n')}\n`;
  };

  before(async () => {
    pool = db.pool({ max: 4 });
    server = createServer(async (req, res) => {
      try {
        const summary = await run(
          req,
          csv.parse({ rows: 'objects', source: 'upload' }),
          postgres.write(pool, { table: 'plates', transaction: 'load' }),
        );
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(summary));
        outcomes.push('ok');
      } catch (error) {
        outcomes.push((error as Error).message);
        if (!res.destroyed) res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message }));
      }
      server.emit('handled', outcomes[outcomes.length - 1]);
    });
    base = await listenLocally(server);
  });

  beforeEach(async () => {
    outcomes.length = 0;
    await db.query(`DROP TABLE IF EXISTS ${db.schema}.plates; CREATE TABLE ${db.schema}.plates (plate text, state text, seen date)`);
  });

  after(() => closeServer(server));

  const upload = (text: string) => fetch(`${base}/plates`, { method: 'POST', body: text, headers: { 'content-type': 'text/csv' } });

  it('a good upload answers 200 with the summary and every row is in the table', async () => {
    const res = await upload(body(20_000));
    expect(res.status).to.equal(200);
    const summary = (await res.json()) as { read: number; written: number };
    expect(summary).to.include({ read: 20_000, written: 20_000 });
    expect(await count()).to.equal(20_000);
  });

  it('a bad line early in a large body answers 400 naming the line, and nothing is committed', async () => {
    // 200,000 rows (~5 MB): the ragged line 150 fails the run long before the client has sent it all.
    const res = await upload(body(200_000, 150));
    expect(res.status).to.equal(400);
    expect(await res.json()).to.deep.equal({ error: 'upload, line 150: expected 3 fields, got 2' });
    expect(await count()).to.equal(0);
    // The server goes on serving.
    expect((await upload(body(10))).status).to.equal(200);
    expect(await count()).to.equal(10);
  });

  it('a bad line in a small body answers 400 too (the body is not destroyed)', async () => {
    const res = await upload(body(10, 5));
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: string }).error).to.equal('upload, line 5: expected 3 fields, got 2');
  });

  it('a client that goes away midway: the run fails, nothing half-committed, the pool idle, the server keeps serving', async () => {
    const handled = outcome();
    const req = request(`${base}/plates`, { method: 'POST', headers: { 'content-type': 'text/csv' } });
    req.on('error', () => {}); // our own destroy below
    const text = body(100_000);
    req.write(text.slice(0, text.length / 2));
    // Wait until the server has rows in flight, then drop the connection.
    while (pool.totalCount === pool.idleCount) await new Promise((resolve) => setImmediate(resolve));
    req.destroy();
    const [message] = await handled;
    expect(message).to.match(/aborted/);
    expect(await count()).to.equal(0);
    expect(pool.totalCount).to.equal(pool.idleCount);
    expect((await upload(body(5))).status).to.equal(200);
  });

  it('several uploads at once, good and bad, each get their own answer', async () => {
    const texts = [body(5_000), body(50_000, 40), body(5_000), body(50_000, 7), body(5_000)];
    const answers = await Promise.all(texts.map(async (text) => {
      const res = await upload(text);
      return `${res.status} ${res.status === 200 ? ((await res.json()) as { written: number }).written : ((await res.json()) as { error: string }).error}`;
    }));
    expect(answers).to.deep.equal([
      '200 5000',
      '400 upload, line 40: expected 3 fields, got 2',
      '200 5000',
      '400 upload, line 7: expected 3 fields, got 2',
      '200 5000',
    ]);
    expect(await count()).to.equal(15_000);
  });
});
