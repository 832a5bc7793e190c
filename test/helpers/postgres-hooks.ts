/**
 * Root hook (loaded by .mocharc.json before the leak gate, so it runs first at the end):
 * stops the embedded PostgreSQL server if this run started one, and lets the sockets of
 * connections that have just ended finish closing, so the gate sees only real leaks.
 * (`pool.end()` resolves on the server's goodbye; the socket handle closes a moment later,
 * and a gate that starts waiting then would also count its own hook's timer.)
 */
import { stopServer } from './postgres.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopServer();
    for (let i = 0; i < 10_000 && process.getActiveResourcesInfo().includes('TCPSocketWrap'); i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  },
};
