import type { Summary } from '../lib/index.js';

/** Shared by the example scripts: `npx tsx examples/<name>.ts IN.csv OUT.csv`. */
export async function main(name: string, job: (input: string, output: string) => Promise<Summary>): Promise<void> {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error(`usage: npx tsx examples/${name}.ts IN.csv OUT.csv`);
    process.exitCode = 2;
    return;
  }
  try {
    const summary = await job(input, output);
    console.log(JSON.stringify(summary));
  } catch (error) {
    console.error(`${name}: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
