import { main } from './cli.js';
import { njFordPolice } from './parking.js';

await main('nj-ford-police', njFordPolice);
