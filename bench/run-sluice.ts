/** `tsx bench/run-sluice.ts PIPELINE IN OUT`: one sluice example pipeline, for bench/index.ts. */
import { daysUntilExpirationPipeline, njFordPolice } from '../examples/parking.js';

const [name, input, output] = process.argv.slice(2);
const job = name === 'nj-ford-police' ? njFordPolice : daysUntilExpirationPipeline;
await job(input, output);
