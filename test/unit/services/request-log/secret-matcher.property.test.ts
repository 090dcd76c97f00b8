import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretMatcher } from '../../../../src-main/services/request-log/secret-matcher';

/** Every occurrence of every pattern, by trying each at each position: the model. */
function coveredByModel(text: string, patterns: readonly string[]): boolean[] {
  const covered = new Array<boolean>(text.length).fill(false);
  for (const pattern of patterns) {
    if (pattern.length === 0) continue;
    for (let at = text.indexOf(pattern); at >= 0; at = text.indexOf(pattern, at + 1)) {
      for (let i = at; i < at + pattern.length; i++) covered[i] = true;
    }
  }
  return covered;
}

// A small alphabet, surrogate halves among it, so patterns overlap, nest and repeat often.
const unit = fc.constantFrom('a', 'b', 'c', '\ud83d', '\ude00', 'é');
const word = (maxLength: number) => fc.array(unit, { maxLength }).map((units) => units.join(''));

describe('SecretMatcher', () => {
  it('covers exactly the characters of every occurrence, joining only overlapping ones', () => {
    fc.assert(
      fc.property(fc.array(word(5), { maxLength: 8 }), word(40), (patterns, text) => {
        const stretches = new SecretMatcher(patterns).covered(text);
        const covered = coveredByModel(text, patterns);
        const fromStretches = new Array<boolean>(text.length).fill(false);
        for (const [start, end] of stretches) for (let i = start; i < end; i++) fromStretches[i] = true;
        expect(fromStretches).toEqual(covered);
        // Sorted and apart; two stretches that only touch are two occurrences, not one.
        for (let i = 1; i < stretches.length; i++)
          expect(stretches[i]![0]).toBeGreaterThanOrEqual(stretches[i - 1]![1]);
        expect(new SecretMatcher(patterns).occursIn(text)).toBe(covered.some(Boolean));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds the longest end of a text that begins a pattern', () => {
    fc.assert(
      fc.property(fc.array(word(6), { maxLength: 6 }), word(30), (patterns, text) => {
        let model = 0;
        for (const pattern of patterns) {
          for (let length = Math.min(pattern.length, text.length); length > model; length--) {
            if (text.endsWith(pattern.slice(0, length))) model = length;
          }
        }
        expect(new SecretMatcher(patterns).prefixAtEnd(text)).toBe(model);
      }),
      { numRuns: 2000 },
    );
  });

  it('replaces each covered stretch once', () => {
    const matcher = new SecretMatcher(['secret', 'cretin', 'abc']);
    expect(matcher.replaceIn('a secretin abcabc and secret.', '#')).toBe('a # ## and #.');
  });
});
