/**
 * Benchmark runner: `npm run bench -- <suite> [more suites]` (no suite: all of them).
 * Each suite is test/bench/<suite>.ts exporting `default async function run(ctx)` that returns its
 * figures. The runner prints them as a table and writes bench/results/<suite>.json (gitignored).
 * Benchmarks never pass or fail on time: targets are printed beside the figures for the reader.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type { BenchSuite } from './bench-kit';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '..', 'bench', 'results');

async function main(): Promise<void> {
  const available = readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !['run.ts', 'bench-kit.ts'].includes(f))
    .map((f) => f.replace(/\.ts$/, ''));
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const suites = asked.length ? asked : available;
  for (const name of suites) {
    if (!available.includes(name)) {
      console.error(`bench: no suite "${name}" (have: ${available.join(', ')})`);
      process.exitCode = 2;
      continue;
    }
    const mod = (await import(join(here, `${name}.ts`))) as { default: BenchSuite };
    console.log(`\n## bench ${name}  (${os.cpus().length} cores, node ${process.version})`);
    const started = Date.now();
    const result = await mod.default();
    const rows = Object.entries(result.figures).map(([key, value]) => ({
      figure: key,
      value: typeof value === 'number' ? Number(value.toPrecision(4)) : value,
      target: result.targets?.[key] ?? '',
    }));
    console.table(rows);
    for (const note of result.notes ?? []) console.log(`  note: ${note}`);
    mkdirSync(resultsDir, { recursive: true });
    const out = join(resultsDir, `${name}.json`);
    writeFileSync(out, JSON.stringify({
      suite: name, at: new Date().toISOString(), seconds: (Date.now() - started) / 1000,
      machine: { cores: os.cpus().length, node: process.version, platform: process.platform },
      ...result.figures, targets: result.targets ?? {}, details: result.details ?? {}, notes: result.notes ?? [],
    }, null, 2));
    console.log(`  wrote ${out}`);
  }
}

await main();
