import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceHarness, type ServiceHarness } from './harness';

let h: ServiceHarness;
let tenantId: string;
beforeEach(async () => {
  h = await serviceHarness();
  tenantId = (await h.services.tenants.create({ name: 'Acme' })).id;
});
afterEach(() => h.close());

const tokens = () => h.services.scimTokens;

describe('SCIM tokens', () => {
  it('creates a 256-bit secret with a recognisable prefix, shown once', async () => {
    const created = await tokens().create({ tenant_id: tenantId, name: 'Entra ID' });
    expect(created.token).toMatch(/^scimdesk_[A-Za-z0-9_-]{43}$/);
    expect(created.token_prefix).toBe(created.token.slice(0, 15));
    expect(created).toMatchObject({ tenant_id: tenantId, name: 'Entra ID', expires_at: null, revoked_at: null });
    const read = tokens().get(created.id);
    expect(read).not.toHaveProperty('token');
    expect(JSON.stringify(read)).not.toContain(created.token);
  });

  it('stores only the hash of the secret', async () => {
    const created = await tokens().create({ tenant_id: tenantId, name: 'okta' });
    await h.store.checkpoint(true);
    const disk = await h.diskText();
    expect(disk).toContain(created.token_prefix);
    expect(disk).not.toContain(created.token);
  });

  it('authenticates a valid secret and says why others are refused', async () => {
    const good = await tokens().create({ tenant_id: tenantId, name: 'good' });
    expect(tokens().authenticate(good.token)).toMatchObject({ ok: true, tenantId });
    expect(tokens().authenticate('nonsense')).toEqual({ ok: false, reason: 'malformed' });
    expect(tokens().authenticate(`scimdesk_${'A'.repeat(43)}`)).toEqual({ ok: false, reason: 'unknown' });
    expect(tokens().authenticate(good.token, 'tn_other')).toMatchObject({ ok: false, reason: 'wrong_tenant' });

    const expiring = await tokens().create({
      tenant_id: tenantId,
      name: 'short',
      expires_at: new Date(h.clock.now() + 60_000).toISOString(),
    });
    expect(tokens().authenticate(expiring.token)).toMatchObject({ ok: true });
    h.clock.advance(60_000);
    expect(tokens().authenticate(expiring.token)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('counts every token that would be accepted now, however many the tenant has', async () => {
    const made = [];
    for (let n = 0; n < 203; n++) made.push(await tokens().create({ tenant_id: tenantId, name: `t${n}` }));
    expect(tokens().activeCount(tenantId)).toBe(203);
    // The 200 newest revoked: the three oldest, past the first page of a listing, still work.
    for (const token of made.slice(3)) await tokens().revoke(token.id);
    expect(tokens().activeCount(tenantId)).toBe(3);
    await tokens().create({
      tenant_id: tenantId,
      name: 'short',
      expires_at: new Date(h.clock.now() + 1_000).toISOString(),
    });
    expect(tokens().activeCount(tenantId)).toBe(4);
    h.clock.advance(1_000);
    expect(tokens().activeCount(tenantId)).toBe(3);
    expect(() => tokens().activeCount('tn_missing')).toThrow(/not found/);
  });

  it('says why a token in use can no longer be used: revoked, or gone with its tenant', async () => {
    const created = await tokens().create({ tenant_id: tenantId, name: 'in use' });
    expect(tokens().refusalNow(tenantId, created.id)).toBeUndefined();
    await tokens().revoke(created.id);
    expect(tokens().refusalNow(tenantId, created.id)).toBe('revoked');
    await h.services.tenants.delete(tenantId);
    expect(tokens().refusalNow(tenantId, created.id)).toBe('tenant deleted');
  });

  it('revokes at once and keeps the record', async () => {
    const created = await tokens().create({ tenant_id: tenantId, name: 'to revoke' });
    await tokens().revoke(created.id);
    expect(tokens().authenticate(created.token)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(tokens().get(created.id).revoked_at).toBe('2026-01-01T09:00:00.000Z');
    // It can be renamed (a note for the log), not given an expiry as if it could work again.
    await expect(tokens().update(created.id, { name: 'revoked: leaked in a ticket' })).resolves.toMatchObject({
      name: 'revoked: leaked in a ticket',
    });
    for (const expires_at of ['2027-01-01T00:00:00Z', null]) {
      await expect(tokens().update(created.id, { expires_at })).rejects.toMatchObject({
        code: 'validation_failed',
        message: 'The token is revoked: it stays revoked, whatever its expiry.',
      });
    }
  });

  it('keeps last_used_at current in memory and persists it in batches', async () => {
    const created = await tokens().create({ tenant_id: tenantId, name: 'used' });
    h.clock.advance(5000);
    tokens().authenticate(created.token);
    expect(tokens().get(created.id).last_used_at).toBe('2026-01-01T09:00:05.000Z');
    expect(h.store.tenant(tenantId)!.get('scimTokens', created.id)!.last_used_at).toBeNull();
    await h.restart(); // close flushes
    expect(tokens().get(created.id).last_used_at).toBe('2026-01-01T09:00:05.000Z');
  });

  it('renames and changes expiry; refuses expiry in the past', async () => {
    const created = await tokens().create({ tenant_id: tenantId, name: 'old' });
    const updated = await tokens().update(created.id, { name: 'new', expires_at: '2027-01-01T00:00:00Z' });
    expect(updated).toMatchObject({ name: 'new', expires_at: '2027-01-01T00:00:00.000Z' });
    await expect(
      tokens().create({ tenant_id: tenantId, name: 'x', expires_at: '2020-01-01T00:00:00Z' }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    // On update too: a token is stopped by revoking it, not by an expiry in the past.
    await expect(tokens().update(created.id, { expires_at: '2020-01-01T00:00:00Z' })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('revoke'),
    });
    expect(tokens().get(created.id).expires_at).toBe('2027-01-01T00:00:00.000Z');
  });

  it('lists newest first, per tenant or all, with paging', async () => {
    const other = (await h.services.tenants.create({ name: 'Other' })).id;
    await tokens().create({ tenant_id: tenantId, name: 'first' });
    h.clock.advance(1000);
    await tokens().create({ tenant_id: other, name: 'second' });
    h.clock.advance(1000);
    await tokens().create({ tenant_id: tenantId, name: 'third' });
    expect(
      tokens()
        .list({ page: 1, per_page: 10 })
        .items.map((t) => t.name),
    ).toEqual(['third', 'second', 'first']);
    expect(
      tokens()
        .list({ page: 1, per_page: 10, tenant_id: tenantId })
        .items.map((t) => t.name),
    ).toEqual(['third', 'first']);
    expect(tokens().list({ page: 2, per_page: 2 })).toMatchObject({ total: 3, items: [{ name: 'first' }] });
    expect(() => tokens().list({ page: 1, per_page: 10, tenant_id: 'tn_none' })).toThrow(
      expect.objectContaining({ code: 'not_found' }),
    );
  });

  it('refuses tokens for unknown tenants and unknown ids', async () => {
    await expect(tokens().create({ tenant_id: 'tn_none', name: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    expect(() => tokens().get('nope')).toThrow(expect.objectContaining({ code: 'not_found' }));
    await expect(tokens().revoke('nope')).rejects.toMatchObject({ code: 'not_found' });
  });
});
