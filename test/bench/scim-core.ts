import { coreSchemaRegistry, requireResource } from '@shared/scim/registry';
import { SCIM_URN } from '@shared/scim/urns';
import { compileFilter } from '../../src-main/scim/filter/evaluate';
import { parseFilter } from '../../src-main/scim/filter/parser';
import { createMemoryCandidateSource } from '../../src-main/scim/memory-source';
import { compileProjection } from '../../src-main/scim/projection';
import { findMatching } from '../../src-main/scim/query';
import { sortResources } from '../../src-main/scim/sort';
import type { ResourceData } from '../../src-main/scim/values';
import type { BenchRow } from './types';

const N = 100_000;

/** Deterministic users (a fixed LCG, so every run measures the same data). */
function makeUsers(n: number): ResourceData[] {
  let seed = 42;
  const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const types = ['Employee', 'Contractor', 'Intern'];
  const users: ResourceData[] = [];
  for (let i = 0; i < n; i++) {
    const created = new Date(Date.UTC(2020, 0, 1) + Math.floor(rnd() * 1e11)).toISOString();
    users.push({
      schemas: [SCIM_URN.user, SCIM_URN.enterpriseUser],
      id: `id-${i.toString(36).padStart(6, '0')}`,
      externalId: `ext-${i}`,
      userName: `User${i}@Example.com`,
      name: { givenName: `Given${Math.floor(rnd() * 5000)}`, familyName: `Family${Math.floor(rnd() * 5000)}` },
      displayName: `User ${i}`,
      userType: types[i % 3],
      active: i % 7 !== 0,
      password: 'scrypt$not-returned',
      emails: [
        { value: `user${i}@example.com`, type: 'work', primary: true },
        { value: `u${i}@home.test`, type: 'home' },
      ],
      meta: { resourceType: 'User', created, lastModified: created, version: `W/"${i}"` },
      [SCIM_URN.enterpriseUser]: { department: `Dept${i % 40}`, manager: { value: `id-${(i >> 3).toString(36)}` } },
    });
  }
  return users;
}

/** Runs `fn` repeatedly for about `ms` milliseconds; returns the mean time per call in ms. */
function timeIt(fn: () => unknown, ms = 400): number {
  fn(); // warm-up
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    calls++;
    now = performance.now();
  }
  return (now - start) / calls;
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

export async function benchScimCore(): Promise<BenchRow[]> {
  const registry = coreSchemaRegistry();
  const schema = requireResource(registry, 'User');
  const users = makeUsers(N);
  const byId = new Map(users.map((u) => [u['id'] as string, u]));
  const rows: BenchRow[] = [];

  const entra = 'userName eq "User77777@example.com"';
  const complex =
    'userType eq "Employee" and emails[type eq "work" and value co "@example.com"] and not (active eq false)';
  rows.push({
    name: 'filter parse (Entra userName eq)',
    value: Math.round(1000 / timeIt(() => parseFilter(entra))),
    unit: 'ops/s',
  });
  rows.push({
    name: 'filter parse + compile (3-clause, value path)',
    value: Math.round(1000 / timeIt(() => compileFilter(parseFilter(complex), schema))),
    unit: 'ops/s',
  });

  const scan = (text: string) => {
    const p = compileFilter(parseFilter(text), schema);
    let hits = 0;
    for (const u of users) if (p(u)) hits++;
    return hits;
  };
  rows.push({
    name: 'userName eq: full scan of 100k users',
    value: round(timeIt(() => scan(entra))),
    unit: 'ms',
    note: 'caseExact=false folding on every row',
  });
  rows.push({
    name: '3-clause value-path filter: full scan of 100k users',
    value: round(timeIt(() => scan(complex))),
    unit: 'ms',
  });
  rows.push({
    name: 'dateTime gt: full scan of 100k users',
    value: round(timeIt(() => scan('meta.created gt "2022-06-01T00:00:00+02:00"'))),
    unit: 'ms',
    note: 'instants, parsed per row',
  });

  const buildStart = performance.now();
  const source = createMemoryCandidateSource({ User: users });
  rows.push({
    name: 'in-memory index build (4 indexes, 100k users)',
    value: round(performance.now() - buildStart),
    unit: 'ms',
  });
  const planned = (text: string) => findMatching(parseFilter(text), schema, source, (id) => byId.get(id)).length;
  rows.push({
    name: 'userName eq: planned (index + re-check), 100k users',
    value: round(
      timeIt(() => planned(entra)),
      4,
    ),
    unit: 'ms',
  });
  rows.push({
    name: 'userName sw (prefix) planned, 100k users',
    value: round(
      timeIt(() => planned('userName sw "user7777"')),
      4,
    ),
    unit: 'ms',
    note: '11 matches',
  });
  rows.push({
    name: 'externalId eq and emails[value eq]: planned, 100k users',
    value: round(
      timeIt(() => planned('externalId eq "ext-123" and emails[value eq "user123@example.com"]')),
      4,
    ),
    unit: 'ms',
  });

  rows.push({
    name: 'sort 100k users by userName',
    value: round(timeIt(() => sortResources(users, schema, { sortBy: 'userName' }), 1500)),
    unit: 'ms',
  });
  rows.push({
    name: 'sort 100k users, default order (meta.created, id)',
    value: round(timeIt(() => sortResources(users, schema), 1500)),
    unit: 'ms',
  });

  const full = compileProjection(schema);
  const narrow = compileProjection(schema, { attributes: 'userName,emails.value' });
  const noExt = compileProjection(schema, { excludedAttributes: `${SCIM_URN.enterpriseUser},meta` });
  let k = 0;
  const next = () => users[k++ % N] as ResourceData;
  rows.push({
    name: 'projection per resource: default attributes',
    value: Math.round(1000 / timeIt(() => full(next()))),
    unit: 'ops/s',
  });
  rows.push({
    name: 'projection per resource: attributes=userName,emails.value',
    value: Math.round(1000 / timeIt(() => narrow(next()))),
    unit: 'ops/s',
  });
  rows.push({
    name: 'projection per resource: excluded extension + meta',
    value: Math.round(1000 / timeIt(() => noExt(next()))),
    unit: 'ops/s',
  });
  return rows;
}
