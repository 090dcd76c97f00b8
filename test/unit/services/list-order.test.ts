import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IdentityService, ScimRequestContext } from '../../../src-main/services/identities/identity-service';
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
/** Creates and replaces through the service, answering the representation. */
const create = async (...args: Parameters<IdentityService['create']>) => (await ids().create(...args)).resource;
const replace = async (...args: Parameters<IdentityService['replace']>) => (await ids().replace(...args)).resource;

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
      users.push(String((await create('User', { schemas: [USER], userName: `u${i}@x.example` }, ctx)).id));
    }
    const groups: string[] = [];
    for (let i = 0; i < 12; i++) {
      h.clock.advance(i % 2 ? 0 : 500);
      const members = users.slice(i, i + 3).map((value) => ({ value }));
      groups.push(String((await create('Group', { schemas: [GROUP], displayName: `g${i}`, members }, ctx)).id));
    }
    for (const id of users.slice(10, 20)) await ids().delete('User', id, ctx);
    h.clock.advance(5000);
    await replace('User', users[30]!, { schemas: [USER], userName: 'renamed@x.example' }, ctx);
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
    for (let i = 0; i < 5; i++) await create('User', { schemas: [USER], userName: `p${i}@x.example` }, ctx);
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
          create('User', { schemas: [USER], userName: `f${i + k}@x.example`, active: (i + k) % 5 !== 0 }, ctx),
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

describe('lists sorted by userName (read from the userName index)', () => {
  /** Every page against the same page of a list that sorts: `userName pr` matches everyone. */
  function expectPagesMatchSortedOnes(total: number, sortBy: string, sortOrder?: string): void {
    for (const count of [1, 7, 50]) {
      for (let startIndex = 1; startIndex <= total + 2; startIndex += count) {
        const query = { startIndex, count, sortBy, ...(sortOrder === undefined ? {} : { sortOrder }) };
        const fromIndex = ids().list('User', query, ctx);
        expect(fromIndex).toEqual(ids().list('User', { ...query, filter: 'userName pr' }, ctx));
        expect(fromIndex.totalResults).toBe(total);
      }
    }
  }

  it('pages in the order of a sort, by code point and case-folded, through renames, deletes and a restart', async () => {
    // Code-unit order puts U+E000 and U+FFFD after 😀 (U+1F600, stored as surrogates from U+D800);
    // code-point order, the sort's, puts them before it.
    const names = [
      'b',
      'A',
      'ｂ',
      'Ａ',
      '\uE000',
      '😀',
      'a😀',
      'a\uFFFD',
      'Zed',
      'zebra',
      'émile',
      'Émilie',
      'ß',
      'SS1',
    ];
    const users: string[] = [];
    for (const [i, name] of names.entries()) {
      users.push(String((await create('User', { schemas: [USER], userName: `${name}@x${i}` }, ctx)).id));
    }
    for (const order of [undefined, 'ascending', 'descending', ' DESCENDING ']) {
      expectPagesMatchSortedOnes(names.length, 'userName', order);
    }
    expectPagesMatchSortedOnes(names.length, 'USERNAME', 'descending');
    expectPagesMatchSortedOnes(names.length, `${USER}:userName`);
    const first = ids().list('User', { sortBy: 'userName', count: 3 }, ctx);
    expect(first.Resources.map((r) => r.userName)).toEqual(['A@x1', 'a\uFFFD@x7', 'a😀@x6']);
    // The index's keys are in code-point order; its prefix lookups still find what they should.
    for (const [prefix, found] of [
      ['A\uFFFD', ['a\uFFFD@x7']],
      ['a😀', ['a😀@x6']],
      ['\uE000', ['\uE000@x4']],
      ['😀', ['😀@x5']],
    ] as const) {
      const filter = `userName sw "${prefix}"`;
      expect(
        ids()
          .list('User', { filter }, ctx)
          .Resources.map((r) => r.userName),
      ).toEqual(found);
    }

    await replace('User', users[0]!, { schemas: [USER], userName: '0-first@x' }, ctx);
    await ids().delete('User', users[5]!, ctx);
    expectPagesMatchSortedOnes(names.length - 1, 'userName');
    expectPagesMatchSortedOnes(names.length - 1, 'userName', 'descending');
    expect(ids().list('User', { sortBy: 'userName', count: 1 }, ctx).Resources[0]?.userName).toBe('0-first@x');

    await h.restart();
    expectPagesMatchSortedOnes(names.length - 1, 'userName');
    expectPagesMatchSortedOnes(names.length - 1, 'userName', 'descending');
  });

  it('still refuses a bad sortOrder, projects attributes and counts with count=0', async () => {
    for (let i = 0; i < 5; i++) await create('User', { schemas: [USER], userName: `p${i}@x.example` }, ctx);
    expect(() => ids().list('User', { sortBy: 'userName', sortOrder: 'up' }, ctx)).toThrow(/sortOrder/);
    const page = ids().list(
      'User',
      { sortBy: 'userName', sortOrder: 'descending', count: 2, attributes: 'userName' },
      ctx,
    );
    expect(page.Resources).toEqual([
      { schemas: [USER], id: expect.any(String), userName: 'p4@x.example' },
      { schemas: [USER], id: expect.any(String), userName: 'p3@x.example' },
    ]);
    expect(ids().list('User', { sortBy: 'userName', count: 0 }, ctx)).toMatchObject({ totalResults: 5, Resources: [] });
  });
});

describe('filtered lists of a big tenant, paged (matches kept between pages)', () => {
  async function createUsers(tenant: ScimRequestContext, n: number, prefix: string): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, k) =>
          create(
            'User',
            { schemas: [USER], userName: `${prefix}${i + k}@x.example`, active: (i + k) % 3 !== 0 },
            tenant,
          ),
        ),
      );
      out.push(...batch.map((u) => String(u.id)));
      h.clock.advance(10);
    }
    return out;
  }

  /** The same query written differently, so that nothing kept for the first can answer it. */
  const fresh = (filter: string) => filter.replace(' eq ', '  eq ');

  it('answers every page as a fresh scan would, before and after each kind of change', async () => {
    const users = await createUsers(ctx, 1_050, 'big');
    const expectSame = (filter: string, extra: Record<string, string | number> = {}) => {
      for (const [startIndex, count] of [
        [1, 100],
        [301, 100],
        [650, 100],
        [2000, 10],
      ] as const) {
        const query = { filter, startIndex, count, ...extra };
        expect(ids().list('User', query, ctx)).toEqual(ids().list('User', { ...query, filter: fresh(filter) }, ctx));
      }
      expect(ids().list('User', { filter, count: 0 }, ctx).totalResults).toBe(
        ids().list('User', { filter: fresh(filter), count: 0 }, ctx).totalResults,
      );
    };
    expectSame('active eq true');
    expectSame('active eq true', { sortBy: 'userName', sortOrder: 'descending', attributes: 'userName' });
    const before = ids().list('User', { filter: 'active eq true', count: 0 }, ctx).totalResults;

    // A create, a replace and a delete each show on the next page.
    await create('User', { schemas: [USER], userName: 'late@x.example', active: true }, ctx);
    expect(ids().list('User', { filter: 'active eq true', count: 1 }, ctx).totalResults).toBe(before + 1);
    await replace('User', users[1]!, { schemas: [USER], userName: 'big1@x.example', active: false }, ctx);
    expect(ids().list('User', { filter: 'active eq true', count: 1 }, ctx).totalResults).toBe(before);
    await ids().delete('User', users[2]!, ctx);
    expect(ids().list('User', { filter: 'active eq true', count: 1 }, ctx).totalResults).toBe(before - 1);
    expectSame('active eq true');

    // A membership change shows in a filter on the derived `groups` of users.
    const group = await create('Group', { schemas: [GROUP], displayName: 'g', members: [] }, ctx);
    const byGroup = `groups.value eq "${String(group.id)}"`;
    expect(ids().list('User', { filter: byGroup }, ctx).totalResults).toBe(0);
    await ids().patch(
      'Group',
      String(group.id),
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: [{ value: users[5] }, { value: users[6] }] }],
      },
      ctx,
    );
    expect(
      ids()
        .list('User', { filter: byGroup }, ctx)
        .Resources.map((r) => r.id)
        .sort(),
    ).toEqual([users[5], users[6]].sort());
  });

  it('holds a kept list to the tenant’s flags: booleanStrings is reported on every page, and refused once off', async () => {
    await createUsers(ctx, 1_000, 'flags');
    // A fresh context per request, as the HTTP layer makes: a context keeps its flags once read.
    const request = (): ScimRequestContext => ({ tenantId: ctx.tenantId, baseUrl: BASE });
    const query = { filter: 'active eq "TRUE"', count: 10 };
    for (const startIndex of [1, 11]) {
      const page = request();
      expect(ids().list('User', { ...query, startIndex }, page).totalResults).toBe(666);
      expect(page.compat?.fired).toEqual(['booleanStrings']);
    }
    await h.services.tenants.update(ctx.tenantId, { compat_profile: 'strict' });
    expect(() => ids().list('User', { ...query, startIndex: 21 }, request())).toThrow(/"booleanStrings" is off/);
    expect(ids().list('User', { filter: 'active eq true', count: 0 }, request()).totalResults).toBe(666);
  });

  it('keeps tenants apart: the same query in another tenant answers from that tenant', async () => {
    await createUsers(ctx, 1_000, 'a');
    const other = { tenantId: (await h.services.tenants.create({ name: 'Other' })).id, baseUrl: BASE };
    await createUsers(other, 1_200, 'b');
    const mine = ids().list('User', { filter: 'active eq true', count: 5 }, ctx);
    const theirs = ids().list('User', { filter: 'active eq true', count: 5 }, other);
    expect(mine.totalResults).toBe(666);
    expect(theirs.totalResults).toBe(800);
    expect(mine.Resources.every((r) => String(r.userName).startsWith('a'))).toBe(true);
    expect(theirs.Resources.every((r) => String(r.userName).startsWith('b'))).toBe(true);
  });
});
