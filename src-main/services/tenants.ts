import { randomBytes } from 'node:crypto';
import { AdminError } from '@shared/errors';
import { COMPAT_FLAG_NAMES } from '@shared/scim/compat-flags';
import type { Page, PageQuery } from '@shared/paging';
import { paginate } from '@shared/paging';
import { Tenant, type TenantCreate, type TenantUpdate } from '@shared/tenant';
import type { Clock } from '../clock';
import type { DurableStore } from '../store/durable-store';
import type { TenantRecord } from '../store/documents';
import { caseless } from '@shared/scim/index-keys';

/** Called when a tenant goes, so that services with their own files (logs, history) forget it too. */
export type TenantDeletedHook = (tenantId: string) => void | Promise<void>;

export interface TenantService {
  list(query: PageQuery): Page<Tenant>;
  get(id: string): Tenant;
  create(input: TenantCreate): Promise<Tenant>;
  update(id: string, input: TenantUpdate): Promise<Tenant>;
  /** Deletes the tenant with all its users, groups, tokens and settings. */
  delete(id: string): Promise<void>;
  /** Called before the store forgets the tenant: the delete waits for it, and fails if it fails. */
  onDeleting(hook: TenantDeletedHook): void;
  onDeleted(hook: TenantDeletedHook): void;
  /** Called after a tenant is created or its settings change. */
  onChanged(hook: (tenant: Tenant) => void): void;
  /** Whether this tenant was deleted while this process runs (the latest 10,000 deletions). */
  wasDeleted(id: string): boolean;
}

/** How many deleted tenant ids a process remembers. */
const REMEMBERED_DELETIONS = 10_000;

export function newTenantId(): string {
  return `tn_${randomBytes(8).toString('hex')}`;
}

export function createTenantService(store: DurableStore, clock: Clock, newId = newTenantId): TenantService {
  const beforeHooks: TenantDeletedHook[] = [];
  const hooks: TenantDeletedHook[] = [];
  const changeHooks: ((tenant: Tenant) => void)[] = [];
  /** Deletes under way, by tenant id. */
  const deleting = new Map<string, Promise<void>>();
  /** Tenants deleted while this process runs, oldest first. */
  const deleted = new Set<string>();
  const read = (record: TenantRecord): Tenant => Tenant.parse(withKnownOverrides(record));
  const require = (id: string): TenantRecord => {
    const record = store.getTenant(id);
    if (!record) throw new AdminError('not_found', `Tenant ${id} not found.`);
    return record;
  };
  // Names are how people tell tenants apart in the console and in IdP setups: unique, ignoring case.
  const assertNameFree = (name: string, self?: string) => {
    // Compared as shown: "Café" typed with a combining accent is the same name as with é, and
    // "Ac me" with a no-break (or any other) space is the same as with a plain one.
    const fold = (text: string) => caseless(text).replace(/\s+/gu, ' ');
    const folded = fold(name);
    const clash = store.listTenants().find((t) => t.id !== self && fold(t.name) === folded);
    if (clash) throw new AdminError('conflict', `A tenant named "${clash.name}" already exists (${clash.id}).`);
  };

  return {
    list(query) {
      // Oldest first, id as tie-break, so paging is stable across calls.
      const ordered = store
        .listTenants()
        .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
      // Only the page is read through the schema: all of them cost 8 ms a page at 2,000 tenants.
      const page = paginate(ordered, query);
      return { ...page, items: page.items.map(read) };
    },
    get(id) {
      return read(require(id));
    },
    async create(input) {
      assertNameFree(input.name);
      const record = Tenant.parse({
        id: newId(),
        name: input.name,
        created_at: new Date(clock.now()).toISOString(),
        delete_mode: input.delete_mode ?? 'delete',
        compat_profile: input.compat_profile,
        compat_overrides: input.compat_overrides,
        log_max_entries: input.log_max_entries,
      });
      await store.putTenant(record);
      for (const hook of changeHooks) hook(record);
      return record;
    },
    async update(id, input) {
      const current = read(require(id));
      // A name kept as it is is not claimed again (the rule may have changed since it was given).
      if (input.name !== undefined && input.name !== current.name) assertNameFree(input.name, id);
      const next = Tenant.parse({ ...current, ...definedOnly(input) });
      await store.putTenant(next);
      for (const hook of changeHooks) hook(next);
      return next;
    },
    async delete(id) {
      // One delete of a tenant at a time: a second one, begun while the first awaited its hooks,
      // found the tenant still there, answered 204 too, and purged again, taking with it the log
      // entries of requests that came after the first delete (which are kept).
      for (let under = deleting.get(id); under; under = deleting.get(id)) await under.catch(() => undefined);
      require(id);
      const run = (async () => {
        for (const hook of beforeHooks) await hook(id);
        if (!(await store.deleteTenant(id))) throw new AdminError('not_found', `Tenant ${id} not found.`);
        deleted.add(id);
        if (deleted.size > REMEMBERED_DELETIONS) deleted.delete(deleted.values().next().value!);
        for (const hook of hooks) await hook(id);
      })();
      deleting.set(id, run);
      try {
        await run;
      } finally {
        if (deleting.get(id) === run) deleting.delete(id);
      }
    },
    onDeleting(hook) {
      beforeHooks.push(hook);
    },
    onDeleted(hook) {
      hooks.push(hook);
    },
    wasDeleted(id) {
      return deleted.has(id);
    },
    onChanged(hook) {
      changeHooks.push(hook);
    },
  };
}

function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * A stored override of a flag this build does not know (written by a later version, or a flag since
 * renamed) is left out of what the tenant reads as, as the SCIM path ignores it: refusing it would
 * make the tenant unreadable and unrepairable through the admin API.
 */
function withKnownOverrides(record: TenantRecord): TenantRecord {
  const overrides = record.compat_overrides;
  if (!overrides || Object.keys(overrides).every((name) => KNOWN_FLAGS.has(name))) return record;
  return {
    ...record,
    compat_overrides: Object.fromEntries(Object.entries(overrides).filter(([name]) => KNOWN_FLAGS.has(name))),
  };
}

const KNOWN_FLAGS: ReadonlySet<string> = new Set(COMPAT_FLAG_NAMES);
