// Run only by test/harness/leak-gate.test.ts, in a child mocha: an unhandled rejection.
describe('a test with an unhandled rejection', () => {
  it('rejects a promise nobody awaits', async () => {
    void Promise.reject(new Error('nobody caught me'));
    await new Promise((resolve) => setImmediate(resolve));
  });
});
