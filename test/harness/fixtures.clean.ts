// Run only by test/harness/leak-gate.test.ts, in a child mocha: cleans up after itself.
import { createServer } from 'node:net';

describe('a test that cleans up', () => {
  it('closes its server', (done) => {
    const server = createServer().listen(0, '127.0.0.1', () => server.close(() => done()));
  });
});
