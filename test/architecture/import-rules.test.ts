import { expect } from 'chai';
import { brokenRules, readGraph, type ImportGraph } from './import-rules.js';

const lib = new URL('../../lib/', import.meta.url).pathname;
const graph = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

describe('the import rules of lib/', () => {
  it('hold for lib/ as it is', () => {
    expect(brokenRules(readGraph(lib))).to.deep.equal([]);
  });

  it('reads the imports of a real file (the check sees the graph at all)', () => {
    const imports = readGraph(lib).get('csv/parse.ts');
    expect(imports).to.include('core/stage.ts');
    expect(imports).to.include('csv/scanner.ts');
    expect(imports).to.include('csv/fast-csv-parse.ts'); // an import() too
  });

  it('catch core importing a capability', () => {
    const problems = brokenRules(graph({ 'core/stage.ts': ['csv/parse.ts'], 'csv/parse.ts': [] }));
    expect(problems).to.deep.equal(['core/stage.ts imports csv/parse.ts: core imports nothing else of sluice']);
  });

  it("catch a capability reaching into another's files, and allow its face", () => {
    const problems = brokenRules(graph({
      'service/call-service.ts': ['csv/scanner.ts', 'postgres/index.ts', 'core/stage.ts', 'operations/map.ts'],
      'csv/scanner.ts': [], 'postgres/index.ts': [], 'core/stage.ts': [], 'operations/map.ts': ['core/stage.ts'],
    }));
    expect(problems).to.deep.equal(["service/call-service.ts imports csv/scanner.ts: a capability uses another capability's face (csv/index.ts) only"]);
  });

  it('catch operations or pipeline importing a capability, and lib/index.ts importing past a face', () => {
    const problems = brokenRules(graph({
      'operations/map.ts': ['csv/index.ts'], 'pipeline/run.ts': ['postgres/index.ts', 'operations/map.ts'],
      'index.ts': ['csv/parse.ts', 'csv/index.ts'], 'csv/index.ts': ['csv/parse.ts'], 'csv/parse.ts': [], 'postgres/index.ts': [],
    }));
    expect(problems).to.deep.equal([
      'operations/map.ts imports csv/index.ts: operations import only core',
      'pipeline/run.ts imports postgres/index.ts: pipeline imports only core and operations',
      "index.ts imports csv/parse.ts: lib/index.ts re-exports folders' faces (index.ts) only",
    ]);
  });

  it('catch a circle, type-only imports included', () => {
    const problems = brokenRules(graph({ 'service/a.ts': ['service/b.ts'], 'service/b.ts': ['service/c.ts'], 'service/c.ts': ['service/a.ts'] }));
    expect(problems).to.deep.equal(['import circle: service/a.ts → service/b.ts → service/c.ts → service/a.ts']);
  });
});
