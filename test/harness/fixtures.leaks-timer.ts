// Run only by test/harness/leak-gate.test.ts, in a child mocha: leaks an interval timer.
describe('a test that leaks a timer', () => {
  it('starts an interval and never clears it', () => {
    setInterval(() => {}, 60_000);
  });
});
