/**
 * `npm run bench`: every performance figure the issues ask for, printed as one table. Benchmarks
 * are measurements, not tests: nothing here fails on a slow machine, it reports. Pass names to run
 * a subset: `npm run bench -- http`.
 */
import { benchHttpDiscovery } from './http-discovery';
import { benchHttpScim } from './http-scim';
import { benchScimCore } from './scim-core';
import { benchScimPatch } from './scim-patch';
import { benchRequestLog } from './request-log';
import { benchSeed } from './seed';
import { benchServices } from './services';
import { benchStore } from './store';
import type { BenchRow } from './types';

const suites: Record<string, () => Promise<BenchRow[]>> = {
  http: benchHttpDiscovery,
  'scim-core': benchScimCore,
  'scim-patch': benchScimPatch,
  store: benchStore,
  services: benchServices,
  'request-log': benchRequestLog,
  seed: benchSeed,
  'http-scim': benchHttpScim,
};

function format(value: number): string {
  if (Number.isInteger(value) || Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value < 10 ? 2 : 1);
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(name in suites));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  const rows: { suite: string; row: BenchRow }[] = [];
  for (const [suite, run] of Object.entries(suites)) {
    if (wanted.length > 0 && !wanted.includes(suite)) continue;
    process.stderr.write(`bench: ${suite}…\n`);
    for (const row of await run()) rows.push({ suite, row });
  }
  const table = rows.map(({ suite, row }) => [suite, row.name, format(row.value), row.unit, row.note ?? '']);
  const header = ['suite', 'measure', 'value', 'unit', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const cells of table) console.log(line(cells));
}

await main();
