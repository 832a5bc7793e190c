/**
 * What every stage that may hold more than its budget shares (sort, groupBy, joins): a byte
 * budget (bytes.ts: `parseBytes` reads '64MB', `estimateBytes` measures a row), a private
 * spill folder (spill-folder.ts, read it first: mkdtemp 0700, files 0600, removed on every
 * way out) holding runs in sluice's own versioned record format (spill-format.ts: every value
 * type round-trips, a CRC-32 per block of records, blocks.ts), a binary heap (heap.ts) for k-way merges, and
 * key-identity.ts (equal keys → equal strings, types kept apart) for hash tables.
 * Internal: nothing here is exported by the package except the two errors, through sort.
 * A row flows: held in memory → written as a record to a run file → read back in order.
 */
export { estimateBytes, freeSoon, parseBytes } from './bytes.js';
export { UNIT_COPY_MAX, copyAscii, copyBytes, putVarint, viewOf, withRoom } from './byte-writing.js';
export { SpillFolder, SpillError, spillIo, RunReader } from './spill-folder.js';
export { SpillFormatError, RecordReader, RecordWriter, HEADER_BYTES, RECORD_HEAD, checkHeader, header } from './spill-format.js';
export { Heap } from './heap.js';
export { keyIdentity } from './key-identity.js';
