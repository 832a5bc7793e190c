/**
 * Every parking ticket plus an `address_key` (examples/address-key.ts), computed on worker
 * threads with `parallel.csv` — each worker reads, parses and keys its own byte ranges of
 * the file — or inline (`csv.read` → `map`) when `threads` is 0. The rows, their order and
 * so the output are the same either way.
 */
import { csv, map, parallel, run, type Summary } from '../lib/index.js';
import withAddressKey from './address-key.js';
import type { Watch } from './parking.js';

export interface AddressOptions {
  /** Worker threads; 0 runs the function on the main thread. Default: parallel.map's (cores − 1). */
  threads?: number;
  watch?: Watch;
}

export function normaliseAddresses(input: string, output: string, { threads, watch }: AddressOptions = {}): Promise<Summary> {
  if (threads === 0) {
    const source = csv.read(input);
    return run(source, map(withAddressKey), csv.write(output, { headers: () => [...(source.headers ?? []), 'address_key'] }), { ...watch });
  }
  const keyed = parallel.csv<string[]>(input, new URL('./address-key.ts', import.meta.url), threads === undefined ? {} : { threads });
  return run(keyed, csv.write(output, { headers: () => [...(keyed.headers ?? []), 'address_key'] }), { ...watch });
}
