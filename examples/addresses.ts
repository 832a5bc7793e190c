/**
 * Every parking ticket plus an `address_key` (examples/address-key.ts), computed on worker
 * threads with `parallel.map` — or inline with `map` when `threads` is 0. The rows, their
 * order and so the output are the same either way.
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
  const source = csv.read(input);
  const keyed =
    threads === 0
      ? map(withAddressKey)
      : parallel.map<string[], string[]>(new URL('./address-key.ts', import.meta.url), threads === undefined ? {} : { threads });
  return run(source, keyed, csv.write(output, { headers: () => [...(source.headers ?? []), 'address_key'] }), { ...watch });
}
