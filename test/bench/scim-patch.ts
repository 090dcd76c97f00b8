import { compatFlags } from '@shared/scim/compat-flags';
import { coreSchemaRegistry, requireResource } from '@shared/scim/registry';
import { SCIM_URN } from '@shared/scim/urns';
import { applyPatch } from '../../src-main/scim/patch';
import type { BenchRow } from './types';

/** Runs `fn` repeatedly for about `ms` milliseconds; returns calls per second. */
function opsPerSecond(fn: (i: number) => unknown, ms = 1000): number {
  for (let i = 0; i < 50; i++) fn(i); // warm-up
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn(calls);
    calls++;
    now = performance.now();
  }
  return Math.round((calls * 1000) / (now - start));
}

const body = (...ops: unknown[]) => ({ schemas: [SCIM_URN.patchOp], Operations: ops });

/** PATCH throughput of the pure engine (no store, no HTTP): a user, and a group of 10,000 members. */
export async function benchScimPatch(): Promise<BenchRow[]> {
  const registry = coreSchemaRegistry();
  const userSchema = requireResource(registry, 'User');
  const groupSchema = requireResource(registry, 'Group');
  const compat = compatFlags('compatible');
  const rows: BenchRow[] = [];

  const user = {
    schemas: [SCIM_URN.user, SCIM_URN.enterpriseUser],
    id: '2819c223-7f76-453a-919d-413861904646',
    userName: 'bjensen@example.com',
    active: true,
    name: { givenName: 'Barbara', familyName: 'Jensen' },
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ],
    [SCIM_URN.enterpriseUser]: { department: 'Tour', manager: { value: 'm1' } },
    meta: { resourceType: 'User', version: 'W/"1"' },
  };
  // Entra ID's update: capitalised ops, a value-filter path and a sub-attribute path.
  const entraUpdate = body(
    { op: 'Replace', path: 'emails[type eq "work"].value', value: 'babs@example.com' },
    { op: 'Replace', path: 'name.familyName', value: 'Jensen-Smith' },
  );
  rows.push({
    name: 'PATCH user: Entra update (2 ops, filter path)',
    value: opsPerSecond(() => applyPatch(user, entraUpdate, { schema: userSchema, compat })),
    unit: 'ops/s',
  });
  const okta = body({ op: 'replace', value: { active: false } });
  rows.push({
    name: 'PATCH user: Okta deactivate (path-less replace)',
    value: opsPerSecond(() => applyPatch(user, okta, { schema: userSchema, compat })),
    unit: 'ops/s',
  });

  const N = 10_000;
  const group = {
    schemas: [SCIM_URN.group],
    id: 'g1',
    displayName: 'Everyone',
    members: Array.from({ length: N }, (_, i) => ({ value: `user-${i.toString(36).padStart(6, '0')}`, type: 'User' })),
    meta: { resourceType: 'Group', version: 'W/"1"' },
  };
  rows.push({
    name: 'PATCH group of 10,000 members: add one member',
    value: opsPerSecond((i) =>
      applyPatch(group, body({ op: 'add', path: 'members', value: [{ value: `new-${i}` }] }), {
        schema: groupSchema,
        compat,
      }),
    ),
    unit: 'ops/s',
    note: 'dedup scan + copy-on-write slice + identity diff',
  });
  rows.push({
    name: 'PATCH group of 10,000 members: remove one member (members[value eq])',
    value: opsPerSecond((i) =>
      applyPatch(
        group,
        body({ op: 'remove', path: `members[value eq "user-${(i % N).toString(36).padStart(6, '0')}"]` }),
        { schema: groupSchema, compat },
      ),
    ),
    unit: 'ops/s',
    note: 'value filter tested on every member (direct eq fast path)',
  });
  rows.push({
    name: 'PATCH group of 10,000 members: Entra remove by value list',
    value: opsPerSecond((i) =>
      applyPatch(
        group,
        body({ op: 'Remove', path: 'members', value: [{ value: `user-${(i % N).toString(36).padStart(6, '0')}` }] }),
        { schema: groupSchema, compat },
      ),
    ),
    unit: 'ops/s',
  });
  return rows;
}
