/**
 * How PostgreSQL's text values become JavaScript values, chosen per query (pg's global
 * `pg.types` registry is never read for the built-in choices, nor ever changed).
 *
 * `'exact'` (the default) keeps every value's meaning and never depends on the Node
 * process's time zone: only types that JavaScript represents exactly are converted —
 * bool → boolean; int2, int4, oid, float4, float8 → number; bytea → Buffer; arrays of
 * those → arrays — and everything else stays the server's text: int8 and numeric (no
 * float rounding), date/time types (pg would build a `Date` in the local zone; the text
 * is the same in every zone), json/jsonb (big integers inside survive), intervals.
 * Arrays of text-kept types become arrays of strings.
 */
import { pgModule } from './pg-module.js';

/** What pg calls with each column's type OID to get a parser. */
export interface TypeParsers {
  getTypeParser(oid: number, format?: string): (value: string) => unknown;
}

/** `'exact'`, `'text'` (every value the server's text, arrays too), `'pg'` (pg's global registry) or your own. */
export type TypesOption = 'exact' | 'text' | 'pg' | TypeParsers;

const identity = (value: string): string => value;
/** True for the parser that keeps the server's text as it is (a decoder can skip calling it). */
export const keepsText = (parser: (value: string) => unknown): boolean => parser === identity;
const parseBool = (value: string): boolean => value === 't' || value === 'true';
const parseNumber = (value: string): number => Number(value);
const parseFloatValue = (value: string): number => parseFloat(value); // 'NaN', 'Infinity', '-Infinity'

function parseBytea(value: string): Buffer {
  if (value.startsWith('\\x')) return Buffer.from(value.slice(2), 'hex');
  // The legacy 'escape' output: \\ is a backslash, \ooo an octal byte, others literal.
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 92 && value[i + 1] === '\\') {
      bytes.push(92);
      i++;
    } else if (c === 92) {
      bytes.push(parseInt(value.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes);
}

// pg-types 2 (pg 8's) exports `arrayParser.create(text, fn).parse()`; its typings describe
// a later version's plain function. Either shape works here.
type ArrayParser = ((text: string, fn: (item: string) => unknown) => unknown[]) & {
  create?: (text: string, fn: (item: string) => unknown) => { parse(): unknown[] };
};
const parseArray = (text: string, fn: (item: string) => unknown): unknown[] => {
  const arrayParser = pgModule().pg.types.arrayParser as unknown as ArrayParser; // (rows come after loadPg)
  return arrayParser.create ? arrayParser.create(text, fn).parse() : arrayParser(text, fn);
};

/** Elements are never NULL here: postgres-array only calls `fn` for non-NULL entries. */
const arrayOf = (element: (value: string) => unknown) => (value: string): unknown => parseArray(value, element);

// OIDs from pg_type (stable since PostgreSQL 8).
const EXACT = new Map<number, (value: string) => unknown>([
  [16, parseBool],
  [21, parseNumber], [23, parseNumber], [26, parseNumber],
  [700, parseFloatValue], [701, parseFloatValue],
  [17, parseBytea],
  [1000, arrayOf(parseBool)],
  [1005, arrayOf(parseNumber)], [1007, arrayOf(parseNumber)], [1028, arrayOf(parseNumber)],
  [1021, arrayOf(parseFloatValue)], [1022, arrayOf(parseFloatValue)],
  [1001, arrayOf(parseBytea)],
]);

// Arrays whose elements stay text in 'exact' mode: int8, numeric, date/time, json, text-like.
const TEXT_ARRAYS = [
  1016, 1231, 1182, 1115, 1185, 1183, 1270, 1187, 199, 3807, 1009, 1015, 1014, 1008, 1002, 1003,
  2951, 791, 1040, 1041, 651, 3907, 3905, 3909, 3911, 3913, 3927, 1561, 1563,
];
for (const oid of TEXT_ARRAYS) EXACT.set(oid, arrayOf(identity));

export const exactTypes: TypeParsers = {
  getTypeParser: (oid: number) => EXACT.get(oid) ?? identity,
};

const textTypes: TypeParsers = {
  getTypeParser: () => identity,
};

/** The parsers a query uses, or undefined for pg's own (global) registry. */
export function resolveTypes(types: TypesOption): TypeParsers | undefined {
  if (types === 'exact') return exactTypes;
  if (types === 'text') return textTypes;
  if (types === 'pg') return undefined;
  return types;
}
