import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPAT_FLAG_NAMES } from '@shared/scim/compat-flags';
import { compatFlagsMarkdownTable } from '@shared/scim/compat-flags-table';

/** A Markdown table as trimmed cells, so Prettier's column padding does not matter. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replace(/^(:?)-+(:?)$/, '$1-$2')),
    );
}

describe('docs/architecture.md', () => {
  const doc = readFileSync(resolve('docs/architecture.md'), 'utf8');
  it('carries the flag table exactly as the registry generates it', () => {
    const m = /<!-- compat-flags:begin[^>]*-->\n([\s\S]*?)\n<!-- compat-flags:end -->/.exec(doc);
    expect(m, 'markers').not.toBeNull();
    expect(cells(m?.[1] ?? '')).toEqual(cells(compatFlagsMarkdownTable()));
  });
  it('lists every flag', () => {
    for (const name of COMPAT_FLAG_NAMES) expect(doc).toContain(`| \`${name}\` |`);
  });
});
