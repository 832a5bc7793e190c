/**
 * A CPU-heavy row function for `examples/normalise-addresses.ts`, in a module of its own so
 * worker threads can load it (`parallel.map`) — and the main thread too (`--threads 0`).
 * It normalises the address of a parking ticket (house number, street name, registration
 * state) with a series of regular expressions and keys it by an iterated SHA-256: about
 * 40 µs a row, the kind of work that pays for a trip to another thread.
 * Columns by index: 2 registration state, 23 house number, 24 street name.
 */
import { hash } from 'node:crypto';

const WORDS: readonly (readonly [RegExp, string])[] = [
  [/\bST\b/g, 'STREET'], [/\bAVE?\b/g, 'AVENUE'], [/\bBLVD\b/g, 'BOULEVARD'], [/\bRD\b/g, 'ROAD'],
  [/\bDR\b/g, 'DRIVE'], [/\bPL\b/g, 'PLACE'], [/\bPKWY\b/g, 'PARKWAY'], [/\bHWY\b/g, 'HIGHWAY'],
  [/\bLN\b/g, 'LANE'], [/\bCT\b/g, 'COURT'], [/\bTER\b/g, 'TERRACE'], [/\bSQ\b/g, 'SQUARE'],
  [/\bEXPY\b/g, 'EXPRESSWAY'], [/\bBR\b/g, 'BRIDGE'], [/\bN\b/g, 'NORTH'], [/\bS\b/g, 'SOUTH'],
  [/\bE\b/g, 'EAST'], [/\bW\b/g, 'WEST'],
];

/** `w 42nd st.` → `WEST 42 STREET`: capitals, no punctuation, no ordinal suffixes, whole words. */
export function normaliseStreet(street: string): string {
  let text = street.toUpperCase().replace(/[^A-Z0-9 ]+/g, ' ').replace(/\b(\d+)(ST|ND|RD|TH)\b/g, '$1');
  for (const [pattern, word] of WORDS) text = text.replace(pattern, word);
  return text.replace(/\s+/g, ' ').trim();
}

/** `0012-a` → `12-A`: capitals, digits, letters and dashes only, no leading zeros. */
export function normaliseHouse(house: string): string {
  return house.toUpperCase().replace(/[^A-Z0-9-]+/g, '').replace(/^0+(?=\d)/, '');
}

/**
 * Rounds of SHA-256 over the normalised address: what makes the key expensive to compute
 * (about 40 µs a row here). Each round is one `crypto.hash` call: `createHash()` per round
 * was slower, and on Node 20 (OpenSSL 3) two threads making Hash objects at once slowed
 * each other down 2–3× a call — a function that does not scale across worker threads.
 */
const ROUNDS = 128;

/** A stable key of an address: hex SHA-256 (iterated) of `HOUSE|STREET|STATE`, normalised. */
export function addressKey(house: string, street: string, state: string): string {
  let key = `${normaliseHouse(house)}|${normaliseStreet(street)}|${state.trim().toUpperCase()}`;
  for (let i = 0; i < ROUNDS; i++) key = hash('sha256', key);
  return key;
}

/** The row with its `address_key` appended (the row function the example runs). */
export default function withAddressKey(row: string[]): string[] {
  return [...row, addressKey(row[23] ?? '', row[24] ?? '', row[2] ?? '')];
}
