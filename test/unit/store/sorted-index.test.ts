import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedIndex } from '../../../src-main/store/sorted-index';

/** The model: a plain sorted list of [key, id] pairs. */
function modelSorted(model: Set<string>): [string, string][] {
  return [...model]
    .map((pair) => JSON.parse(pair) as [string, string])
    .sort(([ka, ia], [kb, ib]) => (ka !== kb ? (ka < kb ? -1 : 1) : ia < ib ? -1 : ia > ib ? 1 : 0));
}

const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', 'Z'), maxLength: 4 });
const id = fc.constantFrom('1', '2', '3', '4', '5', '6');
// Reads between writes move buffered inserts into the blocks, one by one or by a merge.
const step = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('insert' as const), key, id }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), key, id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), key }) },
);

describe('SortedIndex', () => {
  it('matches a sorted-array model under random inserts and removes, across block splits', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 3000 }), key, fc.nat(40), fc.nat(12), (steps, probe, offset, count) => {
        const index = new SortedIndex();
        const model = new Set<string>();
        for (const s of steps) {
          if (s.kind === 'read') {
            const sorted = modelSorted(model);
            expect(index.size).toBe(sorted.length);
            expect(index.prefix(s.key)).toEqual(sorted.filter(([k]) => k.startsWith(s.key)).map(([, i]) => i));
          } else if (s.kind === 'insert') {
            index.insert(s.key, s.id);
            model.add(JSON.stringify([s.key, s.id]));
          } else {
            expect(index.remove(s.key, s.id)).toBe(model.delete(JSON.stringify([s.key, s.id])));
          }
        }
        const sorted = modelSorted(model);
        expect([...index.entries()]).toEqual(sorted);
        expect(index.size).toBe(sorted.length);
        expect(index.prefix(probe)).toEqual(sorted.filter(([k]) => k.startsWith(probe)).map(([, i]) => i));
        expect(index.equal(probe)).toEqual(sorted.filter(([k]) => k === probe).map(([, i]) => i));
        expect(index.slice(offset, count)).toEqual(sorted.slice(offset, offset + count).map(([, i]) => i));
        // From the other end: keys last to first, one key's ids still ascending.
        const fromEnd = [...sorted].sort(([ka, ia], [kb, ib]) => (ka !== kb ? (ka > kb ? -1 : 1) : ia < ib ? -1 : 1));
        expect(index.sliceFromEnd(offset, count)).toEqual(fromEnd.slice(offset, offset + count).map(([, i]) => i));
      }),
      { numRuns: 60 },
    );
  });

  it('bulk load gives the same order as inserts', () => {
    const pairs = Array.from({ length: 5000 }, (_, i) => [`k${(i * 7919) % 5000}`, `id${i}`] as const);
    const loaded = new SortedIndex();
    loaded.load(pairs);
    const inserted = new SortedIndex();
    for (const [k, i] of pairs) inserted.insert(k, i);
    expect([...loaded.entries()]).toEqual([...inserted.entries()]);
    loaded.insert('k1', 'extra');
    const expected = [...pairs.filter(([k]) => k === 'k1').map(([, i]) => i), 'extra'].sort();
    expect(loaded.equal('k1')).toEqual(expected);
  });

  it('merges many buffered inserts, duplicates included, into a loaded index', () => {
    const index = new SortedIndex();
    index.load(Array.from({ length: 3000 }, (_, i) => [`k${String(i * 2).padStart(5, '0')}`, 'a'] as const));
    const added = Array.from({ length: 3000 }, (_, i) => `k${String(i * 2 + 1).padStart(5, '0')}`);
    for (const k of added) index.insert(k, 'a');
    index.insert('k00000', 'a'); // already there
    index.insert('k00001', 'a'); // inserted twice
    expect(index.size).toBe(6000);
    expect(index.slice(0, 4)).toEqual(['a', 'a', 'a', 'a']);
    expect([...index.entries()].map(([k]) => k)).toEqual(
      Array.from({ length: 6000 }, (_, i) => `k${String(i).padStart(5, '0')}`),
    );
    expect(index.remove('k00001', 'a')).toBe(true);
    expect(index.equal('k00001')).toEqual([]);
  });

  it('reads a page by position across many blocks', () => {
    const index = new SortedIndex();
    index.load(Array.from({ length: 100_000 }, (_, i) => [String(i).padStart(6, '0'), `id${i}`] as const));
    expect(index.slice(0, 3)).toEqual(['id0', 'id1', 'id2']);
    expect(index.slice(54_321, 3)).toEqual(['id54321', 'id54322', 'id54323']);
    expect(index.slice(99_998, 10)).toEqual(['id99998', 'id99999']);
    expect(index.slice(100_000, 10)).toEqual([]);
    expect(index.sliceFromEnd(0, 2)).toEqual(['id99999', 'id99998']);
    expect(index.sliceFromEnd(99_999, 10)).toEqual(['id0']);
    expect(index.sliceFromEnd(100_000, 10)).toEqual([]);
  });
});
