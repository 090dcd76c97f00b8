/**
 * SCIM bearer tokens (seed 004): 256 random bits with a recognisable `scimdesk_` prefix, stored only
 * as a SHA-256 hash (exact and fast to look up; a password hash would be pointless for 256 random
 * bits) plus a short display prefix. Revocation is a soft delete that takes effect at once, since
 * every request looks the hash up in the live store.
 *
 * `last_used_at` is kept current in memory on every use and written to the store in batches (every
 * 30 s and on close), so authenticating never costs a disk write; a crash may lose the last
 * interval's timestamps, never a token.
 */
import { hash, randomBytes, randomUUID } from 'node:crypto';
import { AdminError } from '@shared/errors';
import { paginate, type Page, type PageQuery } from '@shared/paging';
import {
  isScimTokenShaped,
  SCIM_TOKEN_PREFIX,
  type CreatedScimToken,
  type CredentialRefusal,
  type ScimToken,
} from '@shared/scim-token';
import type { Clock } from '../clock';
import type { DurableStore } from '../store/durable-store';
import type { ScimTokenRecord } from '../store/documents';

const SECRET_BYTES = 32;
const DISPLAY_PREFIX_CHARS = SCIM_TOKEN_PREFIX.length + 6;
const LAST_USED_FLUSH_MS = 30_000;

export type TokenCheck =
  { ok: true; tenantId: string; token: ScimToken } | { ok: false; reason: CredentialRefusal; token?: ScimToken };

export interface CreateTokenInput {
  tenant_id: string;
  name: string;
  expires_at?: string | null | undefined;
}

export interface UpdateTokenInput {
  name?: string | undefined;
  expires_at?: string | null | undefined;
}

/** Runs on every SCIM request: the one-shot `hash` skips the Hash object `createHash` builds. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

export class ScimTokenService {
  /** id → { tenant, time } of uses not yet written to the store. */
  private readonly pendingUses = new Map<string, { tenant: string; at: string }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: DurableStore,
    private readonly clock: Clock,
  ) {
    this.timer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS);
    this.timer.unref();
  }

  async create(input: CreateTokenInput): Promise<CreatedScimToken> {
    if (!this.store.getTenant(input.tenant_id)) {
      throw new AdminError('not_found', `Tenant ${input.tenant_id} not found.`);
    }
    const now = this.clock.now();
    this.checkExpiry(input.expires_at, now);
    const secret = `${SCIM_TOKEN_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
    const record: ScimTokenRecord = {
      id: randomUUID(),
      tenant_id: input.tenant_id,
      name: input.name,
      token_hash: hashSecret(secret),
      token_prefix: secret.slice(0, DISPLAY_PREFIX_CHARS),
      created_at: new Date(now).toISOString(),
      expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null,
      last_used_at: null,
      revoked_at: null,
    };
    await this.store.write(input.tenant_id, (tx) => tx.put('scimTokens', record));
    return { ...this.view(record), token: secret };
  }

  list(query: PageQuery & { tenant_id?: string | undefined }): Page<ScimToken> {
    const tenants = query.tenant_id ? [query.tenant_id] : this.store.listTenants().map((t) => t.id);
    const all: ScimToken[] = [];
    for (const tenantId of tenants) {
      const tenant = this.store.tenant(tenantId);
      if (!tenant) {
        if (query.tenant_id) throw new AdminError('not_found', `Tenant ${tenantId} not found.`);
        continue;
      }
      for (const record of tenant.list('scimTokens')) all.push(this.view(record));
    }
    // Newest first: the token someone just made is the one they look for.
    all.sort((a, b) => b.created_at.localeCompare(a.created_at) || a.id.localeCompare(b.id));
    return paginate(all, query);
  }

  get(id: string): ScimToken {
    return this.view(this.find(id).record);
  }

  async update(id: string, input: UpdateTokenInput): Promise<ScimToken> {
    const { tenant, record } = this.find(id);
    const set: Partial<ScimTokenRecord> = {};
    if (input.name !== undefined) set.name = input.name;
    if (input.expires_at !== undefined) {
      // A 200 with a new expiry read as "the token works again" (a probe); it never will.
      if (record.revoked_at) {
        throw new AdminError('validation_failed', 'The token is revoked: it stays revoked, whatever its expiry.', [
          { loc: ['body', 'expires_at'], msg: 'a revoked token has no expiry to change', type: 'value_error' },
        ]);
      }
      this.checkExpiry(input.expires_at, this.clock.now());
      set.expires_at = input.expires_at ? new Date(input.expires_at).toISOString() : null;
    }
    if (Object.keys(set).length === 0) return this.view(record);
    await this.store.write(tenant, (tx) => tx.merge('scimTokens', id, set));
    return this.get(id);
  }

  /** An expiry is set in the future, on create and on update alike: to stop a token now, revoke it. */
  private checkExpiry(expiresAt: string | null | undefined, now: number): void {
    if (expiresAt && Date.parse(expiresAt) <= now) {
      throw new AdminError('validation_failed', 'expires_at must be in the future; to stop a token now, revoke it.', [
        { loc: ['body', 'expires_at'], msg: 'must be in the future', type: 'value_error' },
      ]);
    }
  }

  /** Soft revoke: the record stays (for the log and the console), the secret stops working at once. */
  async revoke(id: string): Promise<void> {
    const { tenant, record } = this.find(id);
    if (record.revoked_at) return;
    await this.store.write(tenant, (tx) =>
      tx.merge('scimTokens', id, { revoked_at: new Date(this.clock.now()).toISOString() }),
    );
  }

  /**
   * Checks a bearer secret: one hash and one map lookup. With `tenantId`, the token must belong to
   * that tenant. Records the use when accepted.
   */
  authenticate(secret: string, tenantId?: string): TokenCheck {
    if (!isScimTokenShaped(secret)) return { ok: false, reason: 'malformed' };
    const found = this.store.findScimToken(hashSecret(secret));
    if (!found) return { ok: false, reason: 'unknown' };
    const token = this.view(found.token);
    const now = this.clock.now();
    const refused = refusalOf(found.token, now);
    if (refused) return { ok: false, reason: refused, token };
    if (tenantId !== undefined && found.tenant !== tenantId) return { ok: false, reason: 'wrong_tenant', token };
    const at = new Date(now).toISOString();
    this.pendingUses.set(found.token.id, { tenant: found.tenant, at });
    return { ok: true, tenantId: found.tenant, token: { ...token, last_used_at: at } };
  }

  /**
   * Whose token a secret is, whatever its state (revoked, expired, on another tenant's path). For
   * the request log only: a refused request is filed under the token's tenant, where its admin
   * looks. Records no use.
   */
  identify(secret: string): ScimToken | undefined {
    if (!isScimTokenShaped(secret)) return undefined;
    const found = this.store.findScimToken(hashSecret(secret));
    return found ? this.view(found.token) : undefined;
  }

  /**
   * Why a token accepted earlier in a request is refused now (revoked, expired, or gone with its
   * tenant), or undefined while it is still good. For long requests (Bulk): a revocation takes
   * effect at once (DESIGN.md §3), not after the request that was under way. Records no use.
   */
  /** How many of the tenant's tokens would be accepted now (all of them, not a page's worth). */
  activeCount(tenantId: string): number {
    const tenant = this.store.tenant(tenantId);
    if (!tenant) throw new AdminError('not_found', `Tenant ${tenantId} not found.`);
    const now = this.clock.now();
    let active = 0;
    for (const record of tenant.list('scimTokens')) if (!refusalOf(record, now)) active++;
    return active;
  }

  /** Why the token can no longer be used, if it cannot: its tenant went with it, or it alone. */
  refusalNow(tenantId: string, tokenId: string): 'revoked' | 'expired' | 'deleted' | 'tenant deleted' | undefined {
    const tenant = this.store.tenant(tenantId);
    if (!tenant) return 'tenant deleted';
    const record = tenant.get('scimTokens', tokenId);
    return record ? refusalOf(record, this.clock.now()) : 'deleted';
  }

  /** Writes the remembered last uses, one store transaction per tenant. */
  async flushLastUsed(): Promise<void> {
    if (this.pendingUses.size === 0) return;
    const byTenant = new Map<string, [string, string][]>();
    for (const [id, use] of this.pendingUses) {
      byTenant.set(use.tenant, [...(byTenant.get(use.tenant) ?? []), [id, use.at]]);
    }
    this.pendingUses.clear();
    for (const [tenant, uses] of byTenant) {
      if (!this.store.getTenant(tenant)) continue;
      await this.store.write(tenant, (tx) => {
        for (const [id, at] of uses) if (tx.get('scimTokens', id)) tx.merge('scimTokens', id, { last_used_at: at });
      });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushLastUsed();
  }

  private find(id: string): { tenant: string; record: ScimTokenRecord } {
    for (const tenant of this.store.listTenants()) {
      const record = this.store.tenant(tenant.id)?.get('scimTokens', id);
      if (record) return { tenant: tenant.id, record };
    }
    throw new AdminError('not_found', `SCIM token ${id} not found.`);
  }

  private view(record: ScimTokenRecord): ScimToken {
    const pending = this.pendingUses.get(record.id);
    return {
      id: record.id,
      tenant_id: record.tenant_id,
      name: record.name,
      token_prefix: record.token_prefix,
      created_at: record.created_at,
      expires_at: record.expires_at,
      last_used_at: pending?.at ?? record.last_used_at,
      revoked_at: record.revoked_at,
    };
  }
}

/** Why a token's own record refuses it at `now`, or undefined while it is good. */
function refusalOf(record: ScimTokenRecord, now: number): 'revoked' | 'expired' | undefined {
  if (record.revoked_at) return 'revoked';
  if (record.expires_at && Date.parse(record.expires_at) <= now) return 'expired';
  return undefined;
}
