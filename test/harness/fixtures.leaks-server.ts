// Run only by test/harness/leak-gate.test.ts, in a child mocha: leaks a listening server.
import { createServer } from 'node:net';

describe('a test that leaks', () => {
  it('leaves a server listening', (done) => {
    createServer().listen(0, '127.0.0.1', () => done());
  });
});
