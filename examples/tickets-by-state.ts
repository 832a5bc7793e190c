import { main } from './cli.js';
import { ticketsByState } from './sorting.js';

await main('tickets-by-state', ticketsByState);
