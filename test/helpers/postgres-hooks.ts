/**
 * Root hook (loaded by .mocharc.json before the leak gate, so it runs first at the end):
 * stops the embedded PostgreSQL server if this run started one, and lets the sockets of
 * connections that have just ended finish closing, so the gate sees only real leaks.
 * (`pool.end()` resolves on the server's goodbye; the socket handle closes a moment later,
 * and a gate that starts waiting then would also count its own hook's timer.)
 */
import { stopServer } from './postgres.js';

async function socketsClosed(): Promise<void> {
  for (let i = 0; i < 10_000 && process.getActiveResourcesInfo().includes('TCPSocketWrap'); i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export const mochaHooks = {
  async afterAll(): Promise<void> {
    // Connections closing first: a server stopping under an open one would end it with an
    // error (a client destroyed by its pool may still be saying goodbye).
    await socketsClosed();
    await stopServer();
    await socketsClosed();
  },
};
