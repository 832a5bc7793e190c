import { main } from './cli.js';
import { sortByMake } from './sorting.js';

// npx tsx examples/sort-by-make.ts IN.csv OUT.csv [--memory 64MB]
const at = process.argv.indexOf('--memory');
let memory = '64MB';
if (at !== -1) {
  memory = process.argv[at + 1] ?? '';
  process.argv.splice(at, 2);
}
await main('sort-by-make', (input, output) => sortByMake(input, output, undefined, memory));
