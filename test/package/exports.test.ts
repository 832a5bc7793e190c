import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import ts from 'typescript';

// The public API, as a list: every name lib/index.ts exports with its kind, and the members
// of the capability namespaces (csv.read, postgres.query, …). The list is committed in
// exports.json; a change to it is a change to the API, made on purpose.
const root = new URL('../../', import.meta.url).pathname;
const listFile = new URL('./exports.json', import.meta.url);

function kindOf(checker: ts.TypeChecker, symbol: ts.Symbol): string {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const f = target.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Variable) return 'const';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  return `flags ${f}`;
}

function publicApi(): string[] {
  const program = ts.createProgram([`${root}lib/index.ts`], { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(`${root}lib/index.ts`);
  if (!source) throw new Error('lib/index.ts not found');
  const module = checker.getSymbolAtLocation(source);
  if (!module) throw new Error('lib/index.ts is not a module');
  const lines: string[] = [];
  for (const symbol of checker.getExportsOfModule(module)) {
    const kind = kindOf(checker, symbol);
    lines.push(`${symbol.name}: ${kind}`);
    if (kind === 'const') {
      const type = checker.getTypeOfSymbolAtLocation(symbol, source);
      for (const member of type.getProperties()) lines.push(`${symbol.name}.${member.name}: member`);
    }
  }
  return lines.sort();
}

describe('the public API', () => {
  it('exports exactly the names and kinds listed in test/package/exports.json', () => {
    const listed = JSON.parse(readFileSync(listFile, 'utf8')) as string[];
    expect(publicApi()).to.deep.equal(listed);
  });
});

// Exported for the one-off that wrote the first list; the list is then kept by hand, so
// that an API change shows in the diff of exports.json.
export { publicApi };
