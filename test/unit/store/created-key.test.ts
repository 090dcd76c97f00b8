import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createdKey } from '../../../src-main/store/indexes';
import type { UserDoc } from '../../../src-main/store/documents';
import { parseDateTime } from '../../../src-shared/scim/datetime';

const doc = (created: unknown): UserDoc => ({ id: 'x', userName: 'x', meta: { created } }) as unknown as UserDoc;

/** The list's own order for meta.created: instants ascending, unreadable times last. */
function compareAsList(a: unknown, b: unknown): number {
  const ta = typeof a === 'string' ? parseDateTime(a) : undefined;
  const tb = typeof b === 'string' ? parseDateTime(b) : undefined;
  if (ta === tb) return 0;
  if (ta === undefined) return 1;
  if (tb === undefined) return -1;
  return ta < tb ? -1 : 1;
}

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

const instant = fc
  .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
  .map((d) => d.toISOString());
const withOffset = fc
  .tuple(
    fc.integer({ min: 1900, max: 2100 }),
    fc.integer({ min: 0, max: 23 }),
    fc.constantFrom('Z', '+02:00', '-05:30'),
  )
  .map(([y, h, zone]) => `${y}-06-15T${String(h).padStart(2, '0')}:30:00${zone}`);
const created = fc.oneof(instant, withOffset, fc.constant('not a time'), fc.constant(undefined), fc.integer());

describe('createdKey', () => {
  it('sorts as text exactly as the list sorts meta.created', () => {
    fc.assert(
      fc.property(created, created, (a, b) => {
        const ka = createdKey(doc(a));
        const kb = createdKey(doc(b));
        expect(sign(ka < kb ? -1 : ka > kb ? 1 : 0)).toBe(compareAsList(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders equal instants written differently as equal', () => {
    expect(createdKey(doc('2011-05-13T04:42:34Z'))).toBe(createdKey(doc('2011-05-13T06:42:34+02:00')));
  });
});
