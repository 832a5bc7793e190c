/**
 * A string that is equal for equal key values and different for different ones (types
 * kept apart: 1, '1' and 1n are three keys; Dates by time).
 */
export function keyIdentity(values: readonly unknown[]): string {
  let out = '';
  for (const v of values) {
    switch (typeof v) {
      case 'string': out += `s${v.length}:${v}`; break;
      case 'number': out += `n${Object.is(v, -0) ? '0' : String(v)};`; break;
      case 'bigint': out += `b${v};`; break;
      case 'boolean': out += v ? 't' : 'f'; break;
      case 'undefined': out += 'u'; break;
      default:
        if (v === null) out += 'z';
        else if (v instanceof Date) out += `d${v.getTime()};`;
        else { const j = JSON.stringify(v) ?? ''; out += `j${j.length}:${j}`; }
    }
  }
  return out;
}
