import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, get, type Server } from 'node:http';
import pg from 'pg';
import { finished, pipeline } from 'node:stream/promises';
import { AbortError, csv, pipe, postgres, run } from '../../../lib/index.js';
import { usePostgres } from '../../helpers/postgres.js';
import { until } from '../../helpers/streams.js';
import { closeServer, listenLocally } from '../../helpers/http-server.js';

/** A real node:http export service (postgres.query → csv.format → res) and a client that goes away. */
describe('HTTP export service: run(postgres.query(), csv.format(), res)', function () {
  this.timeout(30_000);
  const db = usePostgres();
  let pool: pg.Pool;
  let server: Server;
  let base: string;

  before(async () => {
    pool = db.pool({ max: 2 });
    const big = 'SELECT g AS n, md5(g::text) AS h FROM generate_series(1, 2000000) g';
    // Fails after ~50,000 rows were sent: a 200 with its headers and a body already under way.
    const failing = 'SELECT g AS n, 1 / (50000 - g) AS x FROM generate_series(1, 100000) g';
    server = createServer(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
      let outcome: unknown = 'ok';
      try {
        if (req.url === '/pipe') {
          // A bare .pipe(res): nothing but pipe() itself notices that res closed.
          const rows = pipe(postgres.query(pool, big), csv.format());
          rows.pipe(res);
          await finished(rows);
        } else if (req.url === '/pipe-pipeline') {
          const rows = pipe(postgres.query(pool, big), csv.format());
          await pipeline(rows, res).catch(() => {});
          await finished(rows);
        } else if (req.url === '/watched') {
          const rows = postgres.query(pool, big);
          server.emit('stage', rows);
          await run(rows, csv.format(), res);
        } else {
          await run(postgres.query(pool, req.url === '/failing' ? failing : big), csv.format(), res);
        }
      } catch (error) {
        outcome = error;
      }
      server.emit('handled', outcome);
    });
    base = await listenLocally(server);
  });

  after(() => closeServer(server));

  /** Starts a download, reads its first bytes and goes away; resolves with what the handler caught. */
  async function goAway(path: string): Promise<unknown> {
    const handled = once(server, 'handled') as Promise<[unknown]>;
    const req = get(`${base}${path}`);
    req.on('error', () => {}); // our own destroy below
    const [res] = (await once(req, 'response')) as [NodeJS.ReadableStream & { destroy(): void }];
    await once(res, 'data');
    req.destroy();
    return (await handled)[0];
  }

  const expectDestinationClosed = async (error: unknown) => {
    expect(error).to.be.instanceOf(AbortError);
    expect(((error as AbortError).cause as Error).message).to.equal('destination closed before the pipeline finished');
    expect((((error as AbortError).cause as Error).cause as { code?: string }).code).to.equal('ERR_STREAM_PREMATURE_CLOSE');
    // run() settles once every stage has closed; pipe()'s result errors first, its stages close just after.
    await until(() => pool.totalCount === pool.idleCount, 'the pool client given back', 100_000);
    // (the afterEach of usePostgres also checks pg_stat_activity: no session left active)
  };

  it('a client that goes away mid-download: AbortError whose cause says the destination closed; cursor closed, client released', async () => {
    const error = await goAway('/plates.csv');
    await expectDestinationClosed(error);
    expect((error as Error & { code?: string }).code).to.not.equal('ERR_STREAM_PREMATURE_CLOSE');
  });

  it('pipe(…).pipe(res), client gone: the result errors with the same AbortError and every stage closes (before: paused forever, cursor open)', async () => {
    await expectDestinationClosed(await goAway('/pipe'));
  });

  it('stream.pipeline(pipe(…), res), client gone: the result errors with the same AbortError, cursor closed, client released', async () => {
    await expectDestinationClosed(await goAway('/pipe-pipeline'));
  });

  it('a client that stops reading stalls the export: fetching stops with the socket buffers full, far short of the table', async () => {
    const handled = once(server, 'handled') as Promise<[unknown]>;
    const watched = once(server, 'stage') as Promise<[{ fetched: number }]>;
    const req = get(`${base}/watched`);
    req.on('error', () => {}); // our own destroy below
    const [res] = (await once(req, 'response')) as [NodeJS.ReadableStream & { pause(): void }];
    await once(res, 'data');
    res.pause();
    const [stage] = await watched;
    // No event says "stopped fetching": look twice, 300 ms apart, until the count stands still.
    let before = -1;
    for (let i = 0; i < 40 && stage.fetched !== before; i++) {
      before = stage.fetched;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(stage.fetched).to.equal(before);
    expect(stage.fetched).to.be.within(1, 600_000); // of 2,000,000: held back by the client, not read ahead
    req.destroy();
    await expectDestinationClosed((await handled)[0]);
  });

  it('an export that fails after headers and rows were sent: the body is cut, the client gets an error, never a complete-looking 200', async () => {
    const handled = once(server, 'handled') as Promise<[unknown]>;
    const res = await fetch(`${base}/failing`);
    expect(res.status).to.equal(200); // headers went out with the first rows
    const reading = res.text();
    const [error] = await handled;
    expect((error as Error).message).to.match(/division by zero/);
    const failure = await reading.then(() => null, (e: unknown) => e);
    expect(failure).to.be.instanceOf(TypeError); // undici: 'terminated' (no final chunk)
    expect((failure as Error).message).to.equal('terminated');
    expect(pool.totalCount).to.equal(pool.idleCount);
  });
});
