import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RequestLogInput } from '../../../src-main/services/request-log/entry';
import { serviceHarness, type ServiceHarness } from './harness';

let h: ServiceHarness;
beforeEach(async () => {
  h = await serviceHarness();
});
afterEach(() => h.close());

/** A new tenant named Doomed, with one user in it. */
async function tenantWithUser(userName: string) {
  const tenant = await h.services.tenants.create({ name: 'Doomed' });
  await h.services.identities.create('User', { userName }, { tenantId: tenant.id, baseUrl: 'http://x/scim/v2' });
  return tenant;
}

/** A request to a tenant's SCIM path, as the capture hands it to the log. */
const requestTo = (tenantId: string, overrides: Partial<RequestLogInput> = {}): RequestLogInput => ({
  method: 'GET',
  path: '/scim/v2/Users',
  tenant_id: tenantId,
  token: null,
  source: 'idp',
  status: 200,
  duration_ms: 1,
  request: { headers: {}, body: null },
  response: { headers: {}, body: null },
  started_at: h.clock.now(),
  ...overrides,
});

describe('tenant service', () => {
  it('creates tenants with defaults and lists them oldest first', async () => {
    const a = await h.services.tenants.create({ name: 'Contoso' });
    h.clock.advance(1000);
    const b = await h.services.tenants.create({
      name: 'Fabrikam',
      delete_mode: 'deactivate',
      compat_profile: 'strict',
    });
    expect(a).toMatchObject({
      name: 'Contoso',
      delete_mode: 'delete',
      compat_profile: 'compatible',
      compat_overrides: {},
      log_max_entries: 100000,
    });
    expect(a.id).toMatch(/^tn_[0-9a-f]{16}$/);
    expect(b).toMatchObject({ delete_mode: 'deactivate', compat_profile: 'strict' });
    expect(h.services.tenants.list({ page: 1, per_page: 50 }).items.map((t) => t.name)).toEqual([
      'Contoso',
      'Fabrikam',
    ]);
  });

  it('refuses a second tenant with the same name, ignoring case', async () => {
    await h.services.tenants.create({ name: 'Contoso' });
    await expect(h.services.tenants.create({ name: 'CONTOSO' })).rejects.toMatchObject({ code: 'conflict' });
    await h.services.tenants.create({ name: 'ΟΔΟΣ' });
    await expect(h.services.tenants.create({ name: 'οδοσ' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('renames and changes settings, keeping what was not given', async () => {
    const tenant = await h.services.tenants.create({ name: 'Old' });
    const updated = await h.services.tenants.update(tenant.id, {
      name: 'New',
      delete_mode: 'deactivate',
      compat_overrides: { requireIfMatch: true },
    });
    expect(updated).toMatchObject({
      id: tenant.id,
      name: 'New',
      delete_mode: 'deactivate',
      compat_profile: 'compatible',
      compat_overrides: { requireIfMatch: true },
      created_at: tenant.created_at,
    });
    await h.restart();
    expect(h.services.tenants.get(tenant.id)).toEqual(updated);
    // Read back from the journal, the overrides still apply to the tenant's SCIM requests.
    const ctx = { tenantId: tenant.id, baseUrl: 'http://x/scim/v2' };
    expect(h.services.identities.compatOf(ctx).isOn('requireIfMatch')).toBe(true);
  });

  it('reads a stored override of a flag it does not know as absent, and can still change the tenant', async () => {
    const tenant = await h.services.tenants.create({ name: 'From a later version' });
    const stored = h.store.getTenant(tenant.id)!;
    await h.store.putTenant({ ...stored, compat_overrides: { requireIfMatch: true, flagOfTomorrow: true } });
    expect(h.services.tenants.get(tenant.id).compat_overrides).toEqual({ requireIfMatch: true });
    expect(h.services.tenants.list({ page: 1, per_page: 50 }).total).toBe(1);
    const cleared = await h.services.tenants.update(tenant.id, { compat_overrides: {} });
    expect(cleared.compat_overrides).toEqual({});
  });

  it('answers not_found for unknown tenants', async () => {
    expect(() => h.services.tenants.get('tn_nope')).toThrow(expect.objectContaining({ code: 'not_found' }));
    await expect(h.services.tenants.update('tn_nope', { name: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.services.tenants.delete('tn_nope')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('deletes a tenant with everything in it, and tells listeners', async () => {
    const tenant = await h.services.tenants.create({ name: 'Doomed' });
    const keep = await h.services.tenants.create({ name: 'Kept' });
    const ctx = { tenantId: tenant.id, baseUrl: 'http://x/scim/v2' };
    const { resource: user } = await h.services.identities.create('User', { userName: 'doomed.user@example.com' }, ctx);
    await h.services.identities.create('Group', { displayName: 'Doomed group', members: [{ value: user.id }] }, ctx);
    const token = await h.services.scimTokens.create({ tenant_id: tenant.id, name: 'entra' });
    const deleted: string[] = [];
    h.services.tenants.onDeleted((id) => void deleted.push(id));

    await h.services.tenants.delete(tenant.id);

    expect(deleted).toEqual([tenant.id]);
    expect(h.store.tenant(tenant.id)).toBeUndefined();
    expect(h.services.scimTokens.authenticate(token.token)).toMatchObject({ ok: false, reason: 'unknown' });
    await h.store.checkpoint(true);
    await h.restart();
    expect(h.services.tenants.list({ page: 1, per_page: 50 }).items.map((t) => t.id)).toEqual([keep.id]);
    const disk = await h.diskText();
    expect(disk).not.toContain(tenant.id);
    expect(disk).not.toContain('doomed.user@example.com');
  });
  it('deletes a tenant once when deletes of it come together: the others are told it is gone', async () => {
    const doomed = await h.services.tenants.create({ name: 'Doomed' });
    const purged: string[] = [];
    h.services.tenants.onDeleted((id) => void purged.push(id));
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => h.services.tenants.delete(doomed.id)));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((result) => result.status === 'rejected').map((result) => result.reason)).toEqual(
      Array.from({ length: 4 }, () => expect.objectContaining({ code: 'not_found' })),
    );
    expect(purged).toEqual([doomed.id]);
  });

  it('keeps no log entry of a request that was under way when its tenant was deleted', async () => {
    const doomed = await h.services.tenants.create({ name: 'Doomed' });
    const kept = await h.services.tenants.create({ name: 'Kept' });
    const entry = (tenantId: string, userName: string) =>
      requestTo(tenantId, { method: 'POST', status: 404, request: { headers: {}, body: { userName } } });
    await h.services.tenants.delete(doomed.id);
    // The response of a request that outlived its tenant is recorded after the purge.
    h.services.requestLog.record(entry(doomed.id, 'late.user@example.com'));
    h.services.requestLog.record(entry(kept.id, 'kept.user@example.com'));
    await h.services.requestLog.flush();
    const items = (await h.services.requestLog.list({ page: 1, per_page: 50 })).items;
    expect(items.map((item) => item.tenant_id)).toEqual([kept.id]);
    expect(await h.diskText()).not.toContain('late.user@example.com');
    // A request sent after the delete is logged under the deleted id, as after a restart: an IdP
    // still calling a deleted tenant's path is what the log's reader looks for.
    h.clock.advance(1);
    h.services.requestLog.record(entry(doomed.id, 'still.calling@example.com'));
    await h.services.requestLog.flush();
    const later = (await h.services.requestLog.list({ page: 1, per_page: 50, tenant_id: doomed.id })).items;
    expect(later.map((item) => item.status)).toEqual([404]);
  });

  it('keeps no history of a write acknowledged as its tenant was deleted, recorded after the purge', async () => {
    const doomed = await h.services.tenants.create({ name: 'Doomed' });
    const kept = await h.services.tenants.create({ name: 'Kept' });
    await h.services.tenants.delete(doomed.id);
    // A create in the journal batch of the delete has its record queued for a later turn, which
    // may come after the purge: it reopened the tenant's history, on disk for good.
    const late = { id: 'u-late', userName: 'late.history@example.com', meta: { version: 'W/"1"' } };
    const meta = { time: h.clock.now(), actor: null, request_id: null, flags: [] };
    expect(h.services.history.recordCreate(doomed.id, 'User', late, meta)).toBeUndefined();
    expect(h.services.history.recordCreate(kept.id, 'User', { ...late, userName: 'kept@example.com' }, meta)).toBe(1);
    await h.services.history.flush();
    expect(h.services.history.timeline(doomed.id, 'User', 'u-late', { page: 1, per_page: 5 }).total).toBe(0);
    expect(await h.diskText()).not.toContain('late.history@example.com');
  });

  it('finishes at the next start a delete a crash cut short, leaving nothing of the tenant on disk', async () => {
    const doomed = await h.services.tenants.create({ name: 'Doomed' });
    const kept = await h.services.tenants.create({ name: 'Kept' });
    const ctx = (tenantId: string) => ({ tenantId, baseUrl: 'http://x/scim/v2' });
    await h.services.identities.create('User', { userName: 'cut.short@example.com' }, ctx(doomed.id));
    await h.services.identities.create('User', { userName: 'kept.user@example.com' }, ctx(kept.id));
    for (const tenantId of [doomed.id, kept.id]) {
      h.services.requestLog.record(
        requestTo(tenantId, {
          path: `/api/v1/tenants/${tenantId}/scim/v2/Users`,
          query: `filter=userName eq "${tenantId}.lookup@example.com"`,
        }),
      );
    }
    await h.services.requestLog.flush();
    await h.services.history.flush();
    // The state a crash leaves between the store forgetting the tenant and the purge: the delete
    // was noted, the store committed it, and nothing else ran.
    let cut = false;
    h.services.tenants.onDeleting(async () => {
      await h.store.deleteTenant(doomed.id);
      cut = true;
      throw new Error('crash');
    });
    await expect(h.services.tenants.delete(doomed.id)).rejects.toThrow('crash');
    expect(cut).toBe(true);
    expect(await h.diskText()).toContain('cut.short@example.com');

    await h.restart();
    await h.store.checkpoint(true); // the store's journal holds the create until its next checkpoint
    const disk = await h.diskText();
    expect(disk).not.toContain('cut.short@example.com');
    expect(disk).not.toContain(`${doomed.id}.lookup@example.com`);
    expect(disk).toContain('kept.user@example.com');
    expect((await h.services.requestLog.list({ page: 1, per_page: 50 })).items.map((i) => i.tenant_id)).toEqual([
      kept.id,
    ]);
    await h.restart();
    expect(await h.diskText()).not.toContain(doomed.id);
  });

  it('keeps a delete listed until a snapshot without the tenant is written, and writes one at the next start', async () => {
    const doomed = await tenantWithUser('in.the.journal@example.com');
    // The process dies while the snapshot is being written (a 10 MB one under load took 10 s).
    const checkpoint = h.store.checkpoint;
    let tried = false;
    h.store.checkpoint = () => {
      tried = true;
      return Promise.reject(new Error('killed (this error is expected)'));
    };
    await h.services.tenants.delete(doomed.id);
    await expect.poll(() => tried).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    h.store.checkpoint = checkpoint;
    expect(await readFile(join(h.dir, 'tenant-purges.json'), 'utf8')).toContain(doomed.id);
    expect(await h.diskText()).toContain('in.the.journal@example.com');

    await h.restart();
    await expect.poll(() => readFile(join(h.dir, 'tenant-purges.json'), 'utf8')).not.toContain(doomed.id);
    expect(await h.diskText()).not.toContain('in.the.journal@example.com');
  });

  it('starts even when a purge left from a crash cannot be finished, and finishes it at a later start', async () => {
    const doomed = await tenantWithUser('left.over@example.com');
    h.services.tenants.onDeleting(async () => {
      await h.store.deleteTenant(doomed.id);
      throw new Error('crash');
    });
    await expect(h.services.tenants.delete(doomed.id)).rejects.toThrow('crash');
    await h.services.history.flush();
    // The note cannot be rewritten (a full disk, say): its temporary file's name is taken.
    await mkdir(join(h.dir, 'tenant-purges.json.tmp'));
    await h.restart();
    expect(h.services.tenants.list({ page: 1, per_page: 10 }).total).toBe(0);
    expect(await readFile(join(h.dir, 'tenant-purges.json'), 'utf8')).toContain(doomed.id);
    await rm(join(h.dir, 'tenant-purges.json.tmp'), { recursive: true });
    await h.restart();
    // Noted as done once the snapshot without the tenant is written.
    await expect.poll(() => readFile(join(h.dir, 'tenant-purges.json'), 'utf8')).not.toContain(doomed.id);
  });

  it('answers a delete made whose history could not be purged, and purges it at the next start', async () => {
    const doomed = await tenantWithUser('history.left@example.com');
    await h.services.history.flush();
    const purgeHistory = h.services.history.purgeTenant;
    h.services.history.purgeTenant = () => Promise.reject(new Error('disk failing'));
    await expect(h.services.tenants.delete(doomed.id)).resolves.toBeUndefined();
    h.services.history.purgeTenant = purgeHistory;
    expect(await readFile(join(h.dir, 'tenant-purges.json'), 'utf8')).toContain(doomed.id);
    await h.restart();
    // Noted as done once the snapshot without the tenant is written.
    await expect.poll(() => readFile(join(h.dir, 'tenant-purges.json'), 'utf8')).not.toContain(doomed.id);
    await h.store.checkpoint(true);
    expect(await h.diskText()).not.toContain('history.left@example.com');
  });

  it('keeps a tenant whose delete was noted but never reached the store, with its log', async () => {
    const tenant = await h.services.tenants.create({ name: 'Spared' });
    h.services.tenants.onDeleting(() => Promise.reject(new Error('crash before the store')));
    await expect(h.services.tenants.delete(tenant.id)).rejects.toThrow('crash before the store');
    h.services.requestLog.record(requestTo(tenant.id));
    await h.services.requestLog.flush();
    await h.restart();
    expect(h.services.tenants.get(tenant.id)).toMatchObject({ name: 'Spared' });
    expect((await h.services.requestLog.list({ page: 1, per_page: 50, tenant_id: tenant.id })).total).toBe(1);
    expect(await h.diskText()).not.toContain(`"tenants":["${tenant.id}"]`);
  });
});
