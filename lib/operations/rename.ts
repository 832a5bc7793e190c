import type { RowOptions } from '../core/row-operation.js';
import { checkHas, kindOf, setField } from '../core/rows.js';
import type { Stage } from '../core/stage.js';
import { checkOptions, invalid, named } from '../core/validate.js';
import { mapNamed } from './map.js';

/**
 * Renames columns of object rows, keeping their order: `rename({ old: 'new' })`. Every
 * named column must exist in each row; a new name may not collide with another column.
 *
 * @example
 * rename({ 'Registration State': 'state', 'Vehicle Make': 'make' })
 */
export function rename<In extends object>(
  mapping: Readonly<Record<string, string>>,
  options: RowOptions<In, Record<string, unknown>> = {},
): Stage<In, Record<string, unknown>> {
  const entries = named('rename()', () => {
    const entries = Object.entries(checkOptions('mapping', mapping));
    if (entries.length === 0) throw invalid('Expected `mapping` to name at least one column');
    const targets = new Set<string>();
    for (const [from, to] of entries) {
      if (typeof to !== 'string' || to === '') {
        throw invalid(`Expected \`mapping[${JSON.stringify(from)}]\` to be a non-empty string, got ${JSON.stringify(to)}`);
      }
      if (targets.has(to)) throw invalid(`Expected \`mapping\` to give distinct new names, got ${JSON.stringify(to)} twice`);
      targets.add(to);
    }
    return entries;
  });
  const renames = new Map(entries as [string, string][]);
  return mapNamed(`rename(${[...renames.keys()].join(',')})`, (row: In) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new TypeError(`rename() needs object rows, got ${kindOf(row)}`);
    }
    for (const from of renames.keys()) checkHas(row, from);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(row)) {
      const to = renames.get(key) ?? key;
      if (Object.hasOwn(out, to)) throw new RangeError(`renaming gives two columns named "${to}"`);
      setField(out, to, (row as Record<string, unknown>)[key]);
    }
    return out;
  }, options);
}
