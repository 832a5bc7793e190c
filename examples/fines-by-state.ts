// npx tsx examples/fines-by-state.ts IN.csv CODES.csv OUT.csv
// Per registration state: tickets and the sum of their fines (CODES.csv: violation_code,fine;
// a code not in it adds 0), by total_fine descending, then state. See examples/fines.ts.
import { finesByState } from './fines.js';

const [input, codes, output] = process.argv.slice(2);
if (!input || !codes || !output) {
  console.error('usage: npx tsx examples/fines-by-state.ts IN.csv CODES.csv OUT.csv');
  process.exitCode = 2;
} else {
  try {
    console.log(JSON.stringify(await finesByState(input, codes, output)));
  } catch (error) {
    console.error(`fines-by-state: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
