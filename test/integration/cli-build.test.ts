import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from './harness';

/** Every module the built CLI loads, following its relative static and dynamic imports. */
async function importGraph(entry: string): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const code = await readFile(file, 'utf8');
    seen.set(file, code);
    for (const match of code.matchAll(/(?:from\s*|import\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
      queue.push(resolve(dirname(file), match[1]!));
    }
  }
  return seen;
}

function bareImports(source: string): string[] {
  // Comments may mention imports (this project's do); only code counts.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(/(?:from\s*|import\s*\(?\s*|require\(\s*)["']([^."'][^"']*)["']/g)].map((m) => m[1]!);
}

describe('build output', () => {
  it('keeps electron out of the headless CLI', async () => {
    const graph = await importGraph(CLI);
    expect(graph.size).toBeGreaterThan(1);
    for (const [file, code] of graph) {
      expect(bareImports(code), file).not.toContain('electron');
    }
  });

  it('imports electron in the desktop entry', async () => {
    const code = await readFile(join(ROOT, 'out/main/index.js'), 'utf8');
    expect(bareImports(code)).toContain('electron');
  });

  it('builds the preload as one CommonJS file that requires only electron', async () => {
    const code = await readFile(join(ROOT, 'out/preload/preload.cjs'), 'utf8');
    expect(code).not.toMatch(/^\s*(import|export)\s/m);
    const required = [...code.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(new Set(required)).toEqual(new Set(['electron']));
  });
});
