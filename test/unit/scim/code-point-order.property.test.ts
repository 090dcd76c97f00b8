import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../src-main/scim/filter/evaluate';
import { parseFilter } from '../../../src-main/scim/filter/parser';
import { codePointOrder } from '@shared/scim/index-keys';
import { sortResources } from '../../../src-main/scim/sort';
import type { ResourceData } from '../../../src-main/scim/values';
import { ids, userSchema } from './helpers';

/** The order by code point, from first principles: the arrays of code points, element by element. */
function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

// Text from the ranges whose order UTF-16 gets wrong: BMP letters, 0xE000–0xFFFF, and astral.
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom('a', 'Z', '～', '\uE000', '\uFFFD'),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)),
    fc.integer({ min: 0x20, max: 0xd7ff }).map((cp) => String.fromCharCode(cp)),
  ),
  maxLength: 6,
});

describe('ordering text by code point (RFC 7644 §3.4.2.3)', () => {
  it('codePointOrder makes < agree with the order of code points, and keeps equality', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const [x, y] = [codePointOrder(a), codePointOrder(b)];
        expect(Math.sign(x < y ? -1 : x > y ? 1 : 0)).toBe(Math.sign(byCodePoint(a, b)));
      }),
      { numRuns: 2000 },
    );
  });
  it('sorts and compares an emoji above the characters after the surrogates', () => {
    const users: ResourceData[] = [
      { id: 'tilde', userName: 't', displayName: '～abc' },
      { id: 'emoji', userName: 'e', displayName: '😀abc' },
      { id: 'private', userName: 'p', displayName: '\uE000' },
    ];
    expect(ids(sortResources(users, userSchema, { sortBy: 'displayName' }))).toEqual(['private', 'tilde', 'emoji']);
    const above = compileFilter(parseFilter('displayName gt "～"'), userSchema);
    expect(users.filter(above).map((u) => u['id'])).toEqual(['tilde', 'emoji']);
  });
});
