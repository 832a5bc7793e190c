/**
 * Deterministic, realistic sample data shaped like NYC Open Data's
 * "Parking Violations Issued" CSV export (43 columns).
 *
 * - `parkingRows({ rows, seed })` yields rows as string arrays (same seed => same rows).
 * - `writeParkingCsv(path, { rows, seed })` writes header + rows as CSV, fast
 *   (~1 MB string chunks, honours fs.WriteStream backpressure).
 * - Run as a script: `npx tsx examples/sample-data.ts OUT.csv [rows=200000] [seed=1]`.
 *
 * Properties the benchmarks/tests rely on:
 * - state, make and agency are drawn independently with P(NJ)~0.091, P(FORD)~0.12,
 *   P(P)=0.095, so ~0.1% of rows match NJ + FORD + P (1M rows => ~1,000).
 * - Vehicle Expiration Date is usually YYYYMMDD, sometimes YYYYMMDD.0, `0`,
 *   `88888888`, an invalid calendar date (month 13, Feb 30, ...) or empty.
 * - Issue Date is `YYYY-MM-DD` or `YYYY-MM-DDT00:00:00.000`.
 * - A few Street Name / Violation Description values contain commas or double
 *   quotes and therefore need CSV quoting. No value contains `|`, `\r`, `\n` or `\0`.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';

export const PARKING_HEADER: readonly string[] = Object.freeze([
  'Summons Number',
  'Plate ID',
  'Registration State',
  'Plate Type',
  'Issue Date',
  'Violation Code',
  'Vehicle Body Type',
  'Vehicle Make',
  'Issuing Agency',
  'Street Code1',
  'Street Code2',
  'Street Code3',
  'Vehicle Expiration Date',
  'Violation Location',
  'Violation Precinct',
  'Issuer Precinct',
  'Issuer Code',
  'Issuer Command',
  'Issuer Squad',
  'Violation Time',
  'Time First Observed',
  'Violation County',
  'Violation In Front Of Or Opposite',
  'House Number',
  'Street Name',
  'Intersecting Street',
  'Date First Observed',
  'Law Section',
  'Sub Division',
  'Violation Legal Code',
  'Days Parking In Effect    ',
  'From Hours In Effect',
  'To Hours In Effect',
  'Vehicle Color',
  'Unregistered Vehicle?',
  'Vehicle Year',
  'Meter Number',
  'Feet From Curb',
  'Violation Post Code',
  'Violation Description',
  'No Standing or Stopping Violation',
  'Hydrant Violation',
  'Double Parking Violation',
]);

// ---------------------------------------------------------------------------
// PRNG + helpers
// ---------------------------------------------------------------------------

/** mulberry32: tiny, fast, deterministic 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;

/** Builds a sampler over [value, weight] pairs (weights need not sum to 1). */
function weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): (rng: Rng) => T {
  const values = pairs.map((p) => p[0]);
  const cum: number[] = [];
  let total = 0;
  for (const [, w] of pairs) cum.push((total += w));
  const last = values.length - 1;
  return (rng) => {
    const x = rng() * total;
    for (let i = 0; i < last; i++) if (x < cum[i]) return values[i];
    return values[last];
  };
}

const uniform =
  <T>(values: readonly T[]) =>
  (rng: Rng): T =>
    values[Math.floor(rng() * values.length)];

const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));
const pad4 = (n: number): string => String(n).padStart(4, '0');

// Number -> string for small non-negative ints without per-call allocation.
const NUM_STR: readonly string[] = Array.from({ length: 100_000 }, (_, i) => String(i));
const num = (n: number): string => (n >= 0 && n < 100_000 ? NUM_STR[n] : String(n));
/** Uniform int in [lo, hi] (both < 100000) as a string. */
const intStr = (rng: Rng, lo: number, hi: number): string => NUM_STR[lo + Math.floor(rng() * (hi - lo + 1))];

const DAY_MS = 86_400_000;
const dayNumber = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d) / DAY_MS;

// Memoised day-number -> 'YYYY-MM-DD' (dates repeat a lot; avoids Date churn).
const isoCache = new Map<number, string>();
function isoDate(day: number): string {
  let s = isoCache.get(day);
  if (s === undefined) {
    const dt = new Date(day * DAY_MS);
    s = `${pad4(dt.getUTCFullYear())}-${pad2(dt.getUTCMonth() + 1)}-${pad2(dt.getUTCDate())}`;
    isoCache.set(day, s);
  }
  return s;
}
const compactCache = new Map<number, string>();
function compactDate(day: number): string {
  let s = compactCache.get(day);
  if (s === undefined) {
    const iso = isoDate(day);
    s = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10);
    compactCache.set(day, s);
  }
  return s;
}
const timestampCache = new Map<number, string>();
function isoTimestamp(day: number): string {
  let s = timestampCache.get(day);
  if (s === undefined) {
    s = isoDate(day) + 'T00:00:00.000';
    timestampCache.set(day, s);
  }
  return s;
}

// ---------------------------------------------------------------------------
// Value distributions (loosely modelled on the FY2017 export)
// ---------------------------------------------------------------------------

const pickState = weighted<string>([
  ['NY', 0.745], ['NJ', 0.09], ['PA', 0.028], ['CT', 0.014], ['FL', 0.013], ['MA', 0.008],
  ['IN', 0.008], ['VA', 0.007], ['MD', 0.006], ['NC', 0.006], ['TX', 0.004], ['IL', 0.004],
  ['GA', 0.004], ['99', 0.004], ['OH', 0.003], ['AZ', 0.003], ['ME', 0.003], ['CA', 0.003],
  ['SC', 0.003], ['MN', 0.003], ['OK', 0.002], ['TN', 0.002], ['DE', 0.002], ['MI', 0.002],
  ['RI', 0.002], ['NH', 0.002], ['VT', 0.002], ['DP', 0.002], ['QB', 0.002], ['ON', 0.002],
  ['AL', 0.001], ['WA', 0.001], ['CO', 0.001], ['OR', 0.001],
]);

const pickMake = weighted<string>([
  ['FORD', 0.104], ['TOYOT', 0.11], ['HONDA', 0.1], ['NISSA', 0.08], ['CHEVR', 0.07],
  ['FRUEH', 0.04], ['ME/BE', 0.035], ['BMW', 0.03], ['DODGE', 0.03], ['JEEP', 0.025],
  ['HYUND', 0.025], ['GMC', 0.02], ['LEXUS', 0.02], ['INTER', 0.018], ['ACURA', 0.015],
  ['CHRYS', 0.015], ['VOLKS', 0.015], ['INFIN', 0.012], ['SUBAR', 0.012], ['AUDI', 0.011],
  ['ISUZU', 0.01], ['KIA', 0.01], ['MAZDA', 0.01], ['LINCO', 0.008], ['CADIL', 0.007],
  ['MITSU', 0.006], ['HIN', 0.005], ['VOLVO', 0.005], ['BUICK', 0.005], ['RAM', 0.004],
  ['', 0.006],
]);

const pickAgency = weighted<string>([
  ['T', 0.6], ['S', 0.2], ['P', 0.095], ['X', 0.04], ['K', 0.02], ['V', 0.02], ['C', 0.01],
  ['F', 0.005], ['H', 0.005], ['O', 0.005],
]);

const pickPlateType = weighted<string>([
  ['PAS', 0.72], ['COM', 0.19], ['OMT', 0.03], ['OMS', 0.01], ['SRF', 0.01], ['999', 0.01],
  ['IRP', 0.008], ['APP', 0.005], ['MOT', 0.005], ['TRC', 0.004], ['ORG', 0.004], ['MED', 0.004],
]);

const pickBodyType = weighted<string>([
  ['SUBN', 0.33], ['4DSD', 0.29], ['VAN', 0.14], ['DELV', 0.07], ['SDN', 0.03], ['2DSD', 0.02],
  ['PICK', 0.02], ['REFG', 0.01], ['TRAC', 0.01], ['TAXI', 0.01], ['UTIL', 0.01], ['CONV', 0.005],
  ['BUS', 0.005], ['TK', 0.005], ['', 0.04],
]);

// [code, description, law section, sub division]
type Violation = readonly [string, string, string, string];
const pickViolation = weighted<Violation>([
  [['21', '21-No Parking (street clean)', '408', 'D1'], 0.14],
  [['36', 'PHTO SCHOOL ZN SPEED VIOLATION', '1180', 'D'], 0.1],
  [['38', '38-Failure to Display Muni Rec', '408', 'h1'], 0.09],
  [['14', '14-No Standing', '408', 'E2'], 0.08],
  [['37', '37-Expired Muni Meter', '408', 'h1'], 0.07],
  [['20', '20A-No Parking (Non-COM)', '408', 'D'], 0.06],
  [['46', '46A-Double Parking (Non-COM)', '408', 'F'], 0.06],
  [['71', '71A-Insp Sticker Expired (NYS)', '408', 'J6'], 0.04],
  [['7', 'FAILURE TO STOP AT RED LIGHT', '1111', 'D'], 0.05],
  [['40', '40-Fire Hydrant', '408', 'E1'], 0.03],
  [['19', '19-No Stand (bus stop)', '408', 'E5'], 0.03],
  [['70', '70A-Reg. Sticker Expired (NYS)', '408', 'J1'], 0.03],
  [['31', '31-No Stand (Com. Mtr. Zone)', '408', 'I3'], 0.025],
  [['16', '16-No Std (Com Veh) Com Plate', '408', 'K2'], 0.02],
  [['69', '69-Failure to Disp Muni Recpt', '408', 'h5'], 0.02],
  [['47', '47-Double PKG-Midtown', '408', 'F5'], 0.02],
  [['17', '17-No Stand (exc auth. veh)', '408', 'E6'], 0.015],
  [['5', 'BUS LANE VIOLATION', '1111', 'C'], 0.015],
  [['74', '74-Missing Display Plate', '402', 'B'], 0.015],
  [['48', '48-Bike Lane', '408', 'E3'], 0.01],
  [['50', '50-Crosswalk', '408', 'C'], 0.01],
  [['84', '84-Plfm Lngth>Max Allowed', '408', 'K9'], 0.005],
  // Values that need CSV quoting (contain a comma and/or a double quote).
  [['70', '70B-Reg. Sticker Missing, Expired (NYS)', '408', 'J1'], 0.02],
  [['31', '31-No Stand (Com. Mtr. Zone), 3HR Limit', '408', 'I3'], 0.01],
  [['14', '14-No Standing, "NO STANDING ANYTIME" sign', '408', 'E2'], 0.005],
  [['', '', '', ''], 0.005],
]);

const STREETS: readonly string[] = [
  'BROADWAY', '3RD AVE', '2ND AVE', '1ST AVE', 'LEXINGTON AVE', 'MADISON AVE', 'PARK AVE',
  'AMSTERDAM AVE', 'COLUMBUS AVE', '8TH AVE', '7TH AVE', 'QUEENS BLVD', 'ATLANTIC AVE',
  'GRAND CONCOURSE', 'FLATBUSH AVE', 'NOSTRAND AVE', 'JAMAICA AVE', 'NORTHERN BLVD',
  'ROOSEVELT AVE', 'FULTON ST', 'CANAL ST', 'ST NICHOLAS AVE', 'OCEAN PKWY', 'KINGS HWY',
  'HYLAN BLVD', 'VICTORY BLVD', 'RICHMOND AVE', 'FORDHAM RD', 'WEBSTER AVE', 'JEROME AVE',
  'ALLERTON AVE (W/B) @', 'WB ATLANTIC AVE @ LOGAN ST', 'EB QUEENS BLVD @ 71 AVE',
  'STEINWAY ST', '86TH ST', 'BAY PKWY', 'ASTORIA BLVD', 'MYRTLE AVE', 'UNION TPKE',
];
const pickNamedStreet = uniform(STREETS);
const pickStreetSuffixed = weighted<string>([['ST', 0.8], ['STREET', 0.1], ['St', 0.05], ['ST.', 0.05]]);
const pickDir = weighted<string>([['W', 0.45], ['E', 0.45], ['WEST', 0.05], ['EAST', 0.05]]);

function streetName(rng: Rng): string {
  const x = rng();
  let s: string;
  if (x < 0.62) s = pickNamedStreet(rng);
  else if (x < 0.97) s = `${pickDir(rng)} ${int(rng, 1, 230)} ${pickStreetSuffixed(rng)}`;
  else if (x < 0.99) s = `${int(rng, 1, 230)} ${rng() < 0.5 ? 'AVE' : 'RD'}`;
  else s = '';
  const y = rng();
  if (y < 0.012) s = `${s || 'BROADWAY'}, ${rng() < 0.5 ? 'S/W CORNER' : 'NEAR ' + pickNamedStreet(rng)}`;
  else if (y < 0.015) s = `${s || 'W 14 ST'} "FRONT OF BLDG"`;
  return s;
}

const INTERSECTIONS: readonly string[] = [
  '10ft E/of W 3rd St', '20ft N/of Broadway', 'BARNES AVE (W/B) @', '35ft W/of 5th Ave',
  '15ft S/of E 42nd St', 'LOGAN ST', '71 AVE', '5ft N/of Atlantic Ave', 'CROSS BAY BLVD',
  'Opp 25ft N/of Lexington Ave', '40ft W/of Amsterdam Ave', 'E/S FLATBUSH AVE', '0ft S/of Queens Blvd',
];
const pickIntersection = uniform(INTERSECTIONS);
// Camera violations (red light, bus lane, school-zone speed) are located at intersections.
const pickCameraStreet = uniform([
  'ALLERTON AVE (W/B) @', 'WB ATLANTIC AVE @ LOGAN ST', 'EB QUEENS BLVD @ 71 AVE', 'NB HYLAN BLVD @ GUYON AVE',
  'SB GRAND CONCOURSE @ E 161 ST', 'WB NORTHERN BLVD @ 94 ST', 'EB KINGS HWY @ E 15 ST', 'NB 3RD AVE @ E 59 ST',
]);
const pickCameraCross = uniform([
  'BARNES AVE (W/B) @', 'LOGAN ST (W/B)', '71 AVE (E/B)', 'GUYON AVE (N/B)', 'E 161 ST (S/B)', '94 ST (W/B)',
]);

const PRECINCTS: readonly number[] = [
  1, 5, 6, 7, 9, 10, 13, 14, 17, 18, 19, 20, 23, 24, 25, 26, 28, 30, 32, 33, 34, 40, 41, 42, 43,
  44, 45, 46, 47, 48, 49, 50, 52, 60, 61, 62, 63, 66, 67, 68, 69, 70, 71, 72, 73, 75, 76, 77, 78,
  79, 81, 83, 84, 88, 90, 94, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112,
  113, 114, 115, 120, 121, 122, 123,
];
const pickPrecinct = uniform(PRECINCTS);
const countyOf = (p: number): string =>
  p < 40 ? (p < 20 ? 'NY' : 'MN') : p < 60 ? 'BX' : p < 100 ? (p < 80 ? 'K' : 'BK') : p < 120 ? 'Q' : 'R';

const pickColor = weighted<string>([
  ['GY', 0.17], ['WH', 0.16], ['BK', 0.14], ['WHITE', 0.08], ['BLACK', 0.05], ['GREY', 0.04],
  ['BL', 0.06], ['RD', 0.04], ['SILVE', 0.03], ['BLUE', 0.03], ['RED', 0.02], ['BROWN', 0.02],
  ['GREEN', 0.015], ['TAN', 0.01], ['GOLD', 0.01], ['OTHER', 0.01], ['YW', 0.01], ['', 0.08],
]);
const pickDaysInEffect = weighted<string>([
  ['BBBBBBB', 0.4], ['YYYYYYY', 0.2], ['YYYYYBB', 0.08], ['YYYYYYB', 0.04], ['', 0.15],
]);
const pickFromHours = weighted<string>([
  ['ALL', 0.3], ['0700A', 0.1], ['0800A', 0.08], ['0900A', 0.05], ['1130A', 0.03], ['', 0.3],
]);
const pickToHours = weighted<string>([
  ['0700P', 0.3], ['0600P', 0.25], ['0400P', 0.15], ['1000A', 0.1], ['0100P', 0.1], ['1100P', 0.1],
]);
const LETTERS = 'ABCDEFGHIJKLMNPRSTUVWXYZ';
const letter = (rng: Rng): string => LETTERS[Math.floor(rng() * LETTERS.length)];
const digit = (rng: Rng): string => NUM_STR[Math.floor(rng() * 10)];

function plateId(rng: Rng): string {
  const x = rng();
  if (x < 0.002) return 'BLANKPLATE';
  if (x < 0.6) return letter(rng) + letter(rng) + letter(rng) + digit(rng) + digit(rng) + digit(rng) + digit(rng);
  if (x < 0.85) return digit(rng) + digit(rng) + digit(rng) + digit(rng) + digit(rng) + letter(rng) + letter(rng);
  return letter(rng) + digit(rng) + digit(rng) + letter(rng) + letter(rng) + letter(rng);
}

// 'HHMMA' / 'HHMMP' (01..12, 00..59), precomputed.
const CLOCK: readonly string[] = Array.from({ length: 12 * 60 * 2 }, (_, i) => {
  const h = Math.floor(i / 120) + 1;
  const m = Math.floor(i / 2) % 60;
  return pad2(h) + pad2(m) + (i % 2 ? 'P' : 'A');
});
function clockTime(rng: Rng): string {
  return CLOCK[(Math.floor(rng() * 720) << 1) | (rng() < 0.55 ? 0 : 1)];
}

const FY_START = dayNumber(2016, 7, 1);
const OUTLIER_START = dayNumber(1999, 1, 1);
const OUTLIER_SPAN = dayNumber(2021, 12, 31) - OUTLIER_START;

function expirationDate(rng: Rng, issueDay: number): string {
  const x = rng();
  if (x < 0.84) {
    // Valid date: mostly in the future, ~17% already expired.
    const s = compactDate(issueDay + int(rng, -150, 750));
    return rng() < 0.03 ? s + '.0' : s;
  }
  if (x < 0.92) return '0';
  if (x < 0.97) return rng() < 0.1 ? '88888888.0' : '88888888';
  if (x < 0.99) {
    // Invalid calendar dates.
    const y = 2016 + Math.floor(rng() * 4);
    const k = rng();
    if (k < 0.3) return `${y}13${pad2(int(rng, 1, 28))}`; // month 13
    if (k < 0.55) return `${y}0230`; // Feb 30
    if (k < 0.7) return `${y === 2016 ? 2017 : y}0229`; // Feb 29 in a non-leap year
    if (k < 0.85) return `${y}${rng() < 0.5 ? '04' : '06'}31`; // 31st of a 30-day month
    return rng() < 0.5 ? `${y}0015` : `${y}1100`; // month 00 / day 00
  }
  return '';
}

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------

export function* parkingRows(options: { rows: number; seed?: number }): Generator<string[]> {
  const rng = mulberry32(options.seed ?? 1);
  for (let i = 0; i < options.rows; i++) yield makeRow(rng);
}

/** One row; consumes the PRNG in a fixed order so a seed always yields the same sequence. */
function makeRow(rng: Rng): string[] {
  const issueDay = rng() < 0.995 ? FY_START + Math.floor(rng() * 365) : OUTLIER_START + Math.floor(rng() * OUTLIER_SPAN);
  const issueDate = rng() < 0.45 ? isoDate(issueDay) : isoTimestamp(issueDay);
  const [code, description, lawSection, subDivision] = pickViolation(rng);
  const agency = pickAgency(rng);
  const precinct = rng() < 0.93 ? pickPrecinct(rng) : 0;
  const camera = code === '36' || code === '7' || code === '5';
  const street1 = rng() < 0.8 ? intStr(rng, 10000, 99999) : '0';
  const street2 = rng() < 0.7 ? intStr(rng, 10000, 99999) : '0';
  const street3 = rng() < 0.7 ? intStr(rng, 10000, 99999) : '0';
  const houseRoll = rng();
  const houseNumber =
    houseRoll < 0.15 ? '' : houseRoll < 0.85 ? intStr(rng, 1, 2999) : `${int(rng, 1, 250)}-${int(rng, 1, 99)}`;
  const fromHours = pickFromHours(rng);
  const row: string[] = [
    String(1_000_000_000 + Math.floor(rng() * 8_999_999_999)), // Summons Number
    plateId(rng), // Plate ID
    pickState(rng), // Registration State
    pickPlateType(rng), // Plate Type
    issueDate, // Issue Date
    code, // Violation Code
    pickBodyType(rng), // Vehicle Body Type
    pickMake(rng), // Vehicle Make
    agency, // Issuing Agency
    street1, // Street Code1
    street2, // Street Code2
    street3, // Street Code3
    expirationDate(rng, issueDay), // Vehicle Expiration Date
    precinct ? num(precinct) : '', // Violation Location
    num(precinct), // Violation Precinct
    camera ? '0' : num(precinct), // Issuer Precinct
    camera ? '0' : String(int(rng, 100000, 999999)), // Issuer Code
    camera ? '' : agency === 'P' ? pad4(precinct) : `T${int(rng, 100, 799)}`, // Issuer Command
    camera ? '' : rng() < 0.3 ? '0000' : letter(rng), // Issuer Squad
    clockTime(rng), // Violation Time
    rng() < 0.8 ? '' : clockTime(rng), // Time First Observed
    precinct ? countyOf(precinct) : '', // Violation County
    camera ? '' : rng() < 0.88 ? 'F' : 'O', // Violation In Front Of Or Opposite
    houseNumber, // House Number
    camera ? pickCameraStreet(rng) : streetName(rng), // Street Name
    camera ? pickCameraCross(rng) : rng() < 0.7 ? pickIntersection(rng) : '', // Intersecting Street
    rng() < 0.8 ? '0' : compactDate(issueDay - int(rng, 0, 3)), // Date First Observed
    lawSection, // Law Section
    subDivision, // Sub Division
    rng() < 0.12 ? 'T' : '', // Violation Legal Code
    pickDaysInEffect(rng), // Days Parking In Effect
    fromHours, // From Hours In Effect
    fromHours === 'ALL' ? 'ALL' : fromHours === '' ? '' : pickToHours(rng), // To Hours In Effect
    pickColor(rng), // Vehicle Color
    rng() < 0.1 ? '0' : '', // Unregistered Vehicle?
    rng() < 0.8 ? intStr(rng, 1995, 2018) : '0', // Vehicle Year
    rng() < 0.65 ? '' : rng() < 0.4 ? '-' : `${int(rng, 100, 599)}-${int(rng, 1000, 9999)}`, // Meter Number
    rng() < 0.95 ? '0' : intStr(rng, 1, 15), // Feet From Curb
    rng() < 0.4 ? '' : `${letter(rng)} ${int(rng, 1, 99)}`, // Violation Post Code
    description, // Violation Description
    '', // No Standing or Stopping Violation
    '', // Hydrant Violation
    '', // Double Parking Violation
  ];
  return row;
}

// ---------------------------------------------------------------------------
// CSV writing
// ---------------------------------------------------------------------------

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE_G = /"/g;

const quoteField = (f: string): string => (NEEDS_QUOTES.test(f) ? '"' + f.replace(QUOTE_G, '""') + '"' : f);

function needsQuotes(f: string): boolean {
  for (let i = 0; i < f.length; i++) {
    const c = f.charCodeAt(i);
    if (c === 44 /* , */ || c === 34 /* " */ || c === 10 /* LF */ || c === 13 /* CR */) return true;
  }
  return false;
}

/** One CSV record without the line terminator; quotes a field only if it contains `,` `"` CR or LF. */
export function toCsvLine(fields: readonly string[]): string {
  // Array#join yields flat strings; `+=` per field builds deep cons-strings that are slow to flush.
  for (let i = 0; i < fields.length; i++) {
    if (needsQuotes(fields[i])) return fields.map(quoteField).join(',');
  }
  return fields.join(',');
}

const CHUNK_CHARS = 1 << 20;

export async function writeParkingCsv(
  path: string,
  options: { rows: number; seed?: number; onProgress?: (rowsDone: number) => void },
): Promise<{ rows: number; bytes: number }> {
  const { onProgress } = options;
  let bytes = 0;
  let rows = 0;
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => {}); // surfaced via Promise.race below
  const write = async (chunk: string): Promise<void> => {
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
  };

  let lines: string[] = [toCsvLine(PARKING_HEADER)];
  let chars = 0;
  try {
    // Same rows as parkingRows(options), without generator overhead.
    const rng = mulberry32(options.seed ?? 1);
    for (let i = 0; i < options.rows; i++) {
      const line = toCsvLine(makeRow(rng));
      lines.push(line);
      chars += line.length + 1;
      rows++;
      if (chars >= CHUNK_CHARS) {
        await write(lines.join('\n') + '\n');
        lines = [];
        chars = 0;
        onProgress?.(rows);
      }
    }
    if (lines.length > 0) await write(lines.join('\n') + '\n');
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
  } catch (err) {
    out.destroy();
    throw err;
  }
  onProgress?.(rows);
  return { rows, bytes };
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

async function main(args: string[]): Promise<void> {
  const [outPath, rowsArg = '200000', seedArg = '1'] = args;
  const rows = Number(rowsArg);
  const seed = Number(seedArg);
  if (!outPath || !Number.isInteger(rows) || rows < 0 || !Number.isInteger(seed)) {
    console.error('usage: npx tsx examples/sample-data.ts OUT.csv [rows=200000] [seed=1]');
    process.exitCode = 2;
    return;
  }
  const started = performance.now();
  const result = await writeParkingCsv(outPath, { rows, seed });
  const secs = (performance.now() - started) / 1000;
  console.log(
    `wrote ${outPath}: ${result.rows} rows, ${result.bytes} bytes (${(result.bytes / 1e6).toFixed(1)} MB, ` +
      `${(result.bytes / Math.max(1, result.rows)).toFixed(1)} B/row) in ${secs.toFixed(2)} s`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
