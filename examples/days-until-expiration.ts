import { main } from './cli.js';
import { daysUntilExpirationPipeline } from './parking.js';

await main('days-until-expiration', daysUntilExpirationPipeline);
