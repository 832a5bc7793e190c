import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, csv, run, take } from '../../../lib/index.js';
import { numberedCsv, openFilesUnder, tempDir, type TempDir } from '../../helpers/files.js';
import { closeServer, listenLocally } from '../../helpers/http-server.js';

const collect = (rows: unknown[]) => new Writable({ objectMode: true, write: (row, _e, cb) => void (rows.push(row), cb()) });

/**
 * Issue 12, §3–§6 inside a real node:http service on 127.0.0.1 with real clients (fetch):
 * files opened only when a pipeline runs, `take(n)` in a plain `stream.pipeline` over a
 * request body, misuse and mistyped options answered in the user's terms — and the service
 * answers every request, alone and concurrently, with no descriptor left open.
 */
describe('an HTTP service around sluice: every mistake gets an answer, nothing is held', function () {
  this.timeout(30_000);
  let dir: TempDir;
  let server: Server;
  let base: string;

  /** Answers with a JSON error unless the body is under way (then cuts it: never a complete-looking 200). */
  const answerError = (res: ServerResponse, error: unknown) => {
    const message = (error as Error).message;
    if (res.headersSent) return void res.destroy();
    const status = /no such file/.test(message) ? 404 : error instanceof TypeError ? 500 : 400;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: message }));
  };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => Promise<void>> = {
    // §3: csv.read opens its file only when the export runs; a missing one is a 404 naming it.
    '/export': async (_req, res, query) => {
      res.setHeader('content-type', 'text/csv');
      const file = join(dir.path, query.get('file')!);
      const count = query.get('take');
      if (count === null) await run(csv.read(file, { rows: 'objects' }), csv.format(), res);
      else await run(csv.read(file, { rows: 'objects' }), take(Number(count)), csv.format(), res);
    },
    // §4: take(n) in a plain stream.pipeline over the request body ends after n rows.
    '/preview': async (req, res, query) => {
      const rows: unknown[] = [];
      await pipeline(req, csv.parse({ rows: 'objects' }), take(Number(query.get('n'))), collect(rows));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows));
    },
    // TESTPLAN B16: a destination already destroyed (the handler gave up on it).
    '/gone': async (_req, res, query) => {
      res.destroy();
      try {
        await run(csv.read(join(dir.path, query.get('file')!)), csv.format(), res);
      } catch (error) {
        server.emit('gone', error);
      }
    },
    // §5: parsing twice.
    '/twice': async (req, res) => {
      await run(req, csv.parse(), csv.parse(), collect([]));
      res.end();
    },
    // §6: a mistyped option.
    '/typo': async (req, res) => {
      await run(req, csv.parse({ row: 'objects' } as never), collect([]));
      res.end();
    },
  };

  before(async () => {
    dir = await tempDir('sluice-service-');
    await dir.write('rows.csv', numberedCsv(20_000));
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://service');
      routes[url.pathname](req, res, url.searchParams).catch((error: unknown) => answerError(res, error));
    });
    base = await listenLocally(server);
  });

  after(async () => {
    await closeServer(server);
    await dir.remove();
  });

  const answer = async (path: string, body?: string): Promise<string> => {
    const res = await fetch(`${base}${path}`, body === undefined ? {} : { method: 'POST', body });
    return `${res.status} ${await res.text()}`;
  };
  const upload = (rows: number) => numberedCsv(rows);

  it('an export of a missing file is a 404 naming the stage and the path; the service goes on', async () => {
    const path = join(dir.path, 'missing.csv');
    expect(await answer('/export?file=missing.csv')).to.equal(`404 ${JSON.stringify({ error: `csv.read(${path}): no such file` })}`);
    expect(await answer('/export?file=.')).to.equal(`400 ${JSON.stringify({ error: `csv.read(${dir.path}): is a directory, not a file` })}`);
    const good = await answer('/export?file=rows.csv&take=2');
    expect(good).to.equal(`200 ${numberedCsv(2)}`);
  });

  it('fifty exports whose take() throws on its argument leave no descriptor open (csv.read opens on first read)', async () => {
    for (let i = 0; i < 50; i++) {
      expect(await answer('/export?file=rows.csv&take=-1')).to.equal(`500 ${JSON.stringify({ error: 'take(): expected `count` to be an integer from 0 and up, got `-1` (number)' })}`);
    }
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });

  it('an export to a response already destroyed fails with "destination closed" and opens nothing', async () => {
    const failure = once(server, 'gone') as Promise<[Error & { cause?: Error }]>;
    const client = await fetch(`${base}/gone?file=rows.csv`).then(() => null, (e: Error) => e);
    expect(client).to.be.instanceOf(TypeError); // fetch failed: the connection was closed
    const [error] = await failure;
    expect(error).to.be.instanceOf(AbortError);
    expect(error.cause?.message).to.equal('destination closed before the pipeline finished');
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });

  it('take(3) in a plain stream.pipeline over a 20,000-row upload answers the first three rows', async () => {
    const three = [1, 2, 3].map((i) => ({ id: String(i), name: `name${i}` }));
    expect(await answer('/preview?n=3', upload(20_000))).to.equal(`200 ${JSON.stringify(three)}`);
    expect(await answer('/preview?n=1', upload(5))).to.equal(`200 ${JSON.stringify(three.slice(0, 1))}`);
  });

  it('parsing twice is a 500 in the user\'s terms, not an internal class name', async () => {
    expect(await answer('/twice', upload(10))).to.equal(`500 ${JSON.stringify({ error: 'csv.parse() expects bytes or text, got rows from csv.parse()' })}`);
  });

  it('a mistyped option is a 500 naming the factory and the nearest valid name', async () => {
    expect(await answer('/typo', upload(10))).to.equal(`500 ${JSON.stringify({ error: "csv.parse(): unknown option 'row' (did you mean 'rows'?)" })}`);
  });

  it('twenty requests at once, each kind, each get their own exact answer', async () => {
    const kinds = [
      ['/export?file=rows.csv', undefined, `200 ${numberedCsv(20_000)}`],
      ['/export?file=missing.csv', undefined, `404 ${JSON.stringify({ error: `csv.read(${join(dir.path, 'missing.csv')}): no such file` })}`],
      ['/twice', upload(1_000), `500 ${JSON.stringify({ error: 'csv.parse() expects bytes or text, got rows from csv.parse()' })}`],
      ['/typo', upload(1_000), `500 ${JSON.stringify({ error: "csv.parse(): unknown option 'row' (did you mean 'rows'?)" })}`],
    ] as const;
    const requests = Array.from({ length: 20 }, (_, i) => kinds[i % kinds.length]);
    const answers = await Promise.all(requests.map(([path, body]) => answer(path, body)));
    expect(answers).to.deep.equal(requests.map(([, , expected]) => expected));
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });
});
