/**
 * Values as PostgreSQL text, the one encoding every write mode uses (so `insert`, `upsert`
 * and `copy` store the same thing), and COPY's text format.
 *
 * - null and undefined → NULL; strings as they are; numbers, bigints → their decimal text;
 *   booleans → true/false; Dates → ISO 8601 in UTC (`toISOString`, whatever the process's
 *   time zone); Buffers → bytea hex (`\x…`); arrays → array literals (`{…}`); other
 *   objects → JSON.
 * - COPY text format: columns split by tab, rows by newline, NULL as `\N`, and a backslash,
 *   tab, newline or carriage return inside a value escaped as `\\`, `\t`, `\n`, `\r`.
 *   So a line without a backslash has no NULL and nothing escaped: its fields are the values.
 */

export type PgText = string | null;

function arrayElement(value: unknown): string {
  const text = toPgText(value);
  if (text === null) return 'NULL';
  if (Array.isArray(value)) return text; // a nested array literal stays unquoted
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `date.toISOString()`, the same text, about 3× faster for years 0–9999 (V8's own costs
 * ~0.4 µs, the largest single cost of encoding a row with a timestamp); other years go to
 * `toISOString` (`+010000-…`, `-000001-…`).
 */
function isoTime(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) {
    if (Number.isNaN(year)) throw new TypeError('an invalid Date');
    return date.toISOString();
  }
  const d2 = TWO_DIGITS;
  return `${year < 1000 ? String(year).padStart(4, '0') : year}-${d2[date.getUTCMonth() + 1]}-${d2[date.getUTCDate()]}T${d2[date.getUTCHours()]}:${d2[date.getUTCMinutes()]}:${d2[date.getUTCSeconds()]}.${THREE_DIGITS[date.getUTCMilliseconds()]}Z`;
}

export function toPgText(value: unknown): PgText {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value instanceof Date) return isoTime(value);
      if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
      if (Array.isArray(value)) return `{${value.map(arrayElement).join(',')}}`;
      return JSON.stringify(value);
    default:
      throw new TypeError(`a ${typeof value} cannot be stored`);
  }
}

const SPECIAL = /[\\\t\n\r]/;

/** Backslash, tab, newline and carriage return escaped (a loop: `replace` with a callback is ~3× slower). */
function escapeCopy(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 92) continue;
    let escaped: string;
    if (c === 92) escaped = '\\\\';
    else if (c === 9) escaped = '\\t';
    else if (c === 10) escaped = '\\n';
    else if (c === 13) escaped = '\\r';
    else continue;
    out += text.slice(from, i) + escaped;
    from = i + 1;
  }
  return out + text.slice(from);
}

/** Text as a COPY field: escaped only when a quick test finds something to escape (most text has nothing). */
function copyEscape(text: string): string {
  return SPECIAL.test(text) ? escapeCopy(text) : text;
}

/** One PostgreSQL text value as a COPY field. */
function copyTextField(text: PgText): string {
  return text === null ? '\\N' : copyEscape(text);
}

/**
 * A value as a COPY field: `copyTextField(toPgText(value))`, without the escape check where
 * nothing can need it — the text of numbers, booleans and Dates (a Buffer's `\x` is escaped).
 */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'string') return copyEscape(value);
  const text = toPgText(value)!;
  const plain = typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value instanceof Date;
  return plain ? text : copyEscape(text);
}

/** One row in COPY text format, without its newline (the sink joins `copyField`s itself; this is the format's reference). */
export function copyLine(values: readonly PgText[]): string {
  const fields = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) fields[i] = copyTextField(values[i]);
  return fields.join('\t');
}

const UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** One field of COPY's text format back to its text: `\N` is NULL; backslash escapes undone. */
function fromCopyField(field: string): PgText {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c !== '\\' || i === field.length - 1) {
      out += c;
      continue;
    }
    const next = field[++i];
    if (next in UNESCAPES) out += UNESCAPES[next];
    else if (next >= '0' && next <= '7') {
      let digits = next;
      while (digits.length < 3 && field[i + 1] >= '0' && field[i + 1] <= '7') digits += field[++i];
      out += String.fromCharCode(parseInt(digits, 8));
    } else if (next === 'x' && /[0-9a-fA-F]/.test(field[i + 1] ?? '')) {
      let digits = field[++i];
      if (/[0-9a-fA-F]/.test(field[i + 1] ?? '')) digits += field[++i];
      out += String.fromCharCode(parseInt(digits, 16));
    } else out += next;
  }
  return out;
}

/** Turns a column's text into its value; `null`: the text is the value. */
export type FieldParser = ((text: string) => unknown) | null;

/**
 * Decodes lines of COPY's text format (one row each, without the newline) into rows of
 * typed values: `\N` is NULL, escapes are undone, and each other value goes through its
 * column's parser. `'object'` rows get every name as an own property, in column order, all
 * rows with the same shape (a later column with a name already used wins, as in pg).
 *
 * The hot path of `postgres.query({ copy: true })`: fields are cut out of the line with
 * `indexOf` (no `split` array), and only a line with a backslash in it is unescaped field
 * by field — the rest (most lines) need no check per field.
 */
export function copyLineDecoder(names: readonly string[], parsers: readonly FieldParser[], rowMode: 'object' | 'array'): (line: string) => unknown {
  const n = names.length;
  const last = n - 1;
  // The loop is written out twice, for arrays and for objects: a store callback shared by
  // both costs a call per value on the hottest line of a COPY read.
  if (rowMode === 'array') {
    return (line) => {
      const row = new Array<unknown>(n);
      const plain = line.indexOf('\\') === -1;
      let start = 0;
      for (let i = 0; i < n; i++) {
        let end = i === last ? line.length : line.indexOf('\t', start);
        if (end === -1) end = line.length;
        let text: PgText = line.slice(start, end);
        start = end + 1;
        if (!plain && (text = fromCopyField(text)) === null) row[i] = null;
        else {
          const parse = parsers[i];
          row[i] = parse === null ? text : parse(text);
        }
      }
      return row;
    };
  }
  // Own data properties (even `__proto__`): assigning to them afterwards keeps the shape.
  const template = Object.fromEntries(names.map((name) => [name, null])) as Record<string, unknown>;
  return (line) => {
    const row = { ...template };
    const plain = line.indexOf('\\') === -1;
    let start = 0;
    for (let i = 0; i < n; i++) {
      let end = i === last ? line.length : line.indexOf('\t', start);
      if (end === -1) end = line.length;
      let text: PgText = line.slice(start, end);
      start = end + 1;
      if (!plain && (text = fromCopyField(text)) === null) row[names[i]] = null;
      else {
        const parse = parsers[i];
        row[names[i]] = parse === null ? text : parse(text);
      }
    }
    return row;
  };
}
