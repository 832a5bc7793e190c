/**
 * The import rules of lib/, checked over its import graph (every `import`/`export … from`
 * and `import()` of a relative path, type-only ones included):
 * - `core` imports nothing else of sluice;
 * - `operations` imports `core`; `pipeline` imports `core` and `operations`;
 * - a capability (csv, postgres, service, and each folder to come) imports `core`,
 *   `operations`, `pipeline`'s face, its own files, and another capability only through
 *   that capability's `index.ts`;
 * - lib/index.ts re-exports folders' faces only;
 * - no file imports itself through a circle of imports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** File (relative to lib/, e.g. `csv/parse.ts`) → the lib files it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g;

export function readGraph(libDir: string): ImportGraph {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const file = relative(libDir, path);
        const text = readFileSync(path, 'utf8');
        const targets = [...text.matchAll(SPECIFIER)].map((m) => normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts'));
        graph.set(file, targets);
      }
    }
  };
  walk(libDir);
  return graph;
}

const folderOf = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');
const isFace = (file: string): boolean => /^[^/]+\/index\.ts$/.test(file);

/** Why `file` may not import `target`, or null when it may. */
function forbidden(file: string, target: string): string | null {
  const [from, to] = [folderOf(file), folderOf(target)];
  if (target.startsWith('..')) return 'imports from outside lib/';
  if (from === '') return isFace(target) ? null : "lib/index.ts re-exports folders' faces (index.ts) only";
  if (from === to) return null;
  if (from === 'core') return 'core imports nothing else of sluice';
  if (to === 'core') return null;
  if (from === 'operations') return 'operations import only core';
  if (to === 'operations') return null;
  if (from === 'pipeline') return 'pipeline imports only core and operations';
  if (to === 'pipeline') return isFace(target) ? null : "a capability uses pipeline's face (index.ts) only";
  return isFace(target) ? null : `a capability uses another capability's face (${to}/index.ts) only`;
}

/** Every broken rule of `graph`, one line each (empty when all hold). */
export function brokenRules(graph: ImportGraph): string[] {
  const problems: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (!graph.has(target)) problems.push(`${file} imports ${target}, which is not a file of lib/`);
      const why = forbidden(file, target);
      if (why !== null) problems.push(`${file} imports ${target}: ${why}`);
    }
  }
  return [...problems, ...circles(graph)];
}

/** The import circles of `graph`, each as `a → b → a` (found by depth-first search). */
function circles(graph: ImportGraph): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') found.push([...path.slice(path.indexOf(target)), target].join(' → '));
      else if (!state.has(target) && graph.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found.map((c) => `import circle: ${c}`);
}
