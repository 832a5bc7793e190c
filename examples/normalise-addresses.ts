/** `npx tsx examples/normalise-addresses.ts IN.csv OUT.csv [--threads N]` (`--threads 0`: inline). */
import { normaliseAddresses } from './addresses.js';
import { main } from './cli.js';

const at = process.argv.indexOf('--threads');
const given = at === -1 ? undefined : process.argv.splice(at, 2)[1];
const threads = given === undefined ? undefined : Number(given);
if (at !== -1 && !(given !== undefined && /^\d+$/.test(given))) {
  console.error(`normalise-addresses: --threads wants a whole number from 0 up, got ${given ?? 'nothing'}`);
  process.exitCode = 2;
} else {
  await main('normalise-addresses', (input, output) => normaliseAddresses(input, output, threads === undefined ? {} : { threads }));
}
