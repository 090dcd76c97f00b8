import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonTextDeeperThan, jsonTextDepth } from '../../../src-main/json-depth';

/** Depth of a parsed value, counted the obvious way. */
function depthOfValue(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOfValue));
}

describe('depth of JSON text', () => {
  it('is the depth of the value it parses to, whatever the strings and spacing hold', () => {
    const tricky = fc.constantFrom('{', '}', '[', ']', '"', '\\', '\\"', '"]}', 'a');
    const text = fc.oneof(
      fc.string(),
      fc.array(tricky, { maxLength: 8 }).map((parts) => parts.join('')),
    );
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.integer(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(text, tie('v'), { maxKeys: 3, noNullPrototype: true }),
      ),
    })).v;
    fc.assert(
      fc.property(value, fc.constantFrom(0, 1), fc.integer({ min: 0, max: 6 }), (v, indent, limit) => {
        const text = JSON.stringify(v, null, indent);
        expect(jsonTextDepth(text)).toBe(depthOfValue(v));
        expect(jsonTextDeeperThan(text, limit)).toBe(depthOfValue(v) > limit);
      }),
      { numRuns: 500 },
    );
  });

  it('tells text deeper than a limit from text that is not, brackets in strings or not', () => {
    // Few brackets: answered from the count alone. Many brackets in a string: the walk decides.
    expect(jsonTextDeeperThan('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(jsonTextDeeperThan('{"a":[{"b":1}]}', 2)).toBe(true);
    expect(jsonTextDeeperThan(JSON.stringify({ s: '['.repeat(100) }), 64)).toBe(false);
    expect(jsonTextDeeperThan(`${'['.repeat(65)}${']'.repeat(65)}`, 64)).toBe(true);
    expect(jsonTextDeeperThan(`${'['.repeat(64)}${']'.repeat(64)}`, 64)).toBe(false);
  });

  it('counts deep nesting without recursion', () => {
    const depth = 100_000;
    expect(jsonTextDepth(`${'['.repeat(depth)}${']'.repeat(depth)}`)).toBe(depth);
  });
});
