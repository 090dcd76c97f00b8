import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScimRequestContext } from '../../../src-main/services/identities/identity-service';
import { serviceHarness, type ServiceHarness } from './harness';

const BASE = 'http://127.0.0.1:8585/scim/v2';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

let h: ServiceHarness;
let ctx: ScimRequestContext;
beforeEach(async () => {
  h = await serviceHarness();
  ctx = { tenantId: (await h.services.tenants.create({ name: 'Acme' })).id, baseUrl: BASE };
});
afterEach(() => h.close());

const ids = () => h.services.identities;

/** Every page of a list without sortBy, against the same pages sorted explicitly by meta.created. */
function expectPagesMatchSortedOnes(kind: 'User' | 'Group', total: number): void {
  for (const count of [1, 7, 50]) {
    for (let startIndex = 1; startIndex <= total + 2; startIndex += count) {
      const fast = ids().list(kind, { startIndex, count }, ctx);
      const sorted = ids().list(kind, { startIndex, count, sortBy: 'meta.created' }, ctx);
      expect(fast).toEqual(sorted);
      expect(fast.totalResults).toBe(total);
    }
  }
}

describe('lists without sortBy (the order Okta pages through)', () => {
  it('pages users and groups in created order, ties by id, through creates, replaces, deletes and a restart', async () => {
    const users: string[] = [];
    for (let i = 0; i < 60; i++) {
      // Several users share a creation time, so the id decides between them.
      if (i % 3 === 0) h.clock.advance(1000);
      users.push(String((await ids().create('User', { schemas: [USER], userName: `u${i}@x.example` }, ctx)).id));
    }
    const groups: string[] = [];
    for (let i = 0; i < 12; i++) {
      h.clock.advance(i % 2 ? 0 : 500);
      const members = users.slice(i, i + 3).map((value) => ({ value }));
      groups.push(String((await ids().create('Group', { schemas: [GROUP], displayName: `g${i}`, members }, ctx)).id));
    }
    for (const id of users.slice(10, 20)) await ids().delete('User', id, ctx);
    h.clock.advance(5000);
    await ids().replace('User', users[30]!, { schemas: [USER], userName: 'renamed@x.example' }, ctx);
    await ids().delete('Group', groups[3]!, ctx);

    expectPagesMatchSortedOnes('User', 50);
    expectPagesMatchSortedOnes('Group', 11);
    // A replace keeps meta.created, so the user keeps its place among the three created with it.
    const all = ids()
      .list('User', { count: 100 }, ctx)
      .Resources.map((r) => r.id);
    expect(all.indexOf(users[30]!)).toBeGreaterThanOrEqual(20);
    expect(all.indexOf(users[30]!)).toBeLessThanOrEqual(22);

    await h.restart();
    expectPagesMatchSortedOnes('User', 50);
    expectPagesMatchSortedOnes('Group', 11);
  });

  it('still projects attributes, counts with count=0 and validates startIndex and count', async () => {
    for (let i = 0; i < 5; i++) await ids().create('User', { schemas: [USER], userName: `p${i}@x.example` }, ctx);
    const page = ids().list('User', { startIndex: 2, count: 2, attributes: 'userName' }, ctx);
    expect(page).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(page.Resources.map((r) => Object.keys(r).sort())).toEqual([
      ['id', 'schemas', 'userName'],
      ['id', 'schemas', 'userName'],
    ]);
    expect(ids().list('User', { count: 0 }, ctx)).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    expect(() => ids().list('User', { count: 'x' as unknown as number }, ctx)).toThrow();
  });

  it('orders large filtered results like sortBy=meta.created', async () => {
    for (let i = 0; i < 320; i += 16) {
      h.clock.advance(i % 32 ? 0 : 1000);
      await Promise.all(
        Array.from({ length: 16 }, (_, k) =>
          ids().create('User', { schemas: [USER], userName: `f${i + k}@x.example`, active: (i + k) % 5 !== 0 }, ctx),
        ),
      );
    }
    // The first two match enough users to be put in order by the created-order index; the last few.
    for (const filter of ['active eq true', 'userName sw "f"', 'userName co "1"']) {
      for (const [startIndex, count] of [
        [1, 50],
        [101, 100],
        [250, 100],
      ] as const) {
        const fast = ids().list('User', { filter, startIndex, count }, ctx);
        const sorted = ids().list('User', { filter, startIndex, count, sortBy: 'meta.created' }, ctx);
        expect(fast).toEqual(sorted);
      }
    }
  });
});
