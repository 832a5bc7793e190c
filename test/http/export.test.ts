import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { AbortError, csv, postgres, run } from '../../lib/index.js';
import { usePostgres } from '../helpers/postgres.js';

/** A real node:http export service (postgres.query → csv.format → res) and a client that goes away. */
describe('HTTP export service: run(postgres.query(), csv.format(), res)', function () {
  this.timeout(30_000);
  const db = usePostgres();
  let pool: pg.Pool;
  let server: Server;
  let base: string;

  before(async () => {
    pool = db.pool({ max: 2 });
    server = createServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
      let outcome: unknown = 'ok';
      try {
        await run(postgres.query(pool, 'SELECT g AS n, md5(g::text) AS h FROM generate_series(1, 2000000) g'), csv.format(), res);
      } catch (error) {
        outcome = error;
      }
      server.emit('handled', outcome);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('a client that goes away mid-download: AbortError whose cause says the destination closed; cursor closed, client released', async () => {
    const handled = once(server, 'handled') as Promise<[unknown]>;
    const req = get(`${base}/plates.csv`);
    req.on('error', () => {}); // our own destroy below
    const [res] = (await once(req, 'response')) as [NodeJS.ReadableStream & { destroy(): void }];
    await once(res, 'data');
    req.destroy();
    const [error] = await handled;
    expect(error).to.be.instanceOf(AbortError);
    expect(((error as AbortError).cause as Error).message).to.equal('destination closed before the pipeline finished');
    expect((error as Error & { code?: string }).code).to.not.equal('ERR_STREAM_PREMATURE_CLOSE');
    expect(pool.totalCount).to.equal(pool.idleCount);
    // (the afterEach of usePostgres also checks pg_stat_activity: no session left active)
  });
});
