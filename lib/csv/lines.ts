/**
 * Line bookkeeping for parsed CSV rows. The parser returns fields, not positions, so a
 * row's line count is rebuilt from its fields: one line, plus one per line break kept
 * inside quoted fields (CRLF counts once). Empty lines come back as empty rows, so they
 * count too.
 */
export function linesSpanned(fields: readonly string[]): number {
  let lines = 1;
  for (const field of fields) {
    if (field.indexOf('\n') === -1 && field.indexOf('\r') === -1) continue;
    for (let i = 0; i < field.length; i++) {
      const c = field.charCodeAt(i);
      if (c === 10) lines++;
      else if (c === 13 && field.charCodeAt(i + 1) !== 10) lines++;
    }
  }
  return lines;
}
