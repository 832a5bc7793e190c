// Run only by test/harness/leak-gate.test.ts, in a child mocha: leaves a one-shot timer that
// fires 300 ms after the test, so the gate has to wait (and mocha's timer for the gate's own
// hook is running meanwhile).
describe('a test whose one-shot timer is still pending at the end', () => {
  it('sets a 300 ms timer and returns', () => {
    setTimeout(() => {}, 300);
  });
});
