import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqRanges } from '../../../../src-main/services/request-log/seq-ranges';

/** Ascending, possibly touching or empty ranges, as the log adds them while reading its lines. */
const rangesArb = fc.array(fc.tuple(fc.nat(5), fc.integer({ min: -1, max: 6 })), { maxLength: 40 }).map((steps) => {
  let at = 1;
  return steps.map(([skip, length]) => {
    const from = at + skip;
    at = from + Math.max(length, 0) + 1;
    return [from, from + length] as const;
  });
});

const spanArb = fc.tuple(fc.nat(400), fc.nat(400)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);

function naiveCount(ranges: readonly (readonly [number, number])[], after: number, upTo: number): number {
  let n = 0;
  for (let seq = after + 1; seq <= upTo; seq++) if (ranges.some(([from, to]) => from <= seq && seq <= to)) n++;
  return n;
}

describe('SeqRanges', () => {
  it('counts exactly the seqs of its ranges in any span while under its bound', () => {
    fc.assert(
      fc.property(rangesArb, fc.array(spanArb, { minLength: 1, maxLength: 10 }), (ranges, spans) => {
        const set = new SeqRanges();
        for (const [from, to] of ranges) set.add(from, to);
        for (const [after, upTo] of spans) expect(set.countIn(after, upTo)).toBe(naiveCount(ranges, after, upTo));
      }),
    );
  });

  it('past its bound merges neighbours, so a count may grow but never shrinks', () => {
    fc.assert(
      fc.property(rangesArb, fc.array(spanArb, { minLength: 1, maxLength: 10 }), (ranges, spans) => {
        const set = new SeqRanges(4);
        for (const [from, to] of ranges) set.add(from, to);
        expect(set.size).toBeLessThanOrEqual(4);
        for (const [after, upTo] of spans) {
          expect(set.countIn(after, upTo)).toBeGreaterThanOrEqual(naiveCount(ranges, after, upTo));
        }
      }),
    );
  });
});
