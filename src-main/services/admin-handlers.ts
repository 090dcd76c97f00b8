import type { AdminHandlers } from '@shared/contract';
import type { ScimEndpointInfo } from '@shared/endpoint-info';
import { AdminError } from '@shared/errors';
import type { HistoryVersion } from '@shared/resource-history';
import { compatFlagsDocument } from '@shared/scim/compat-flags-document';
import type { Clock } from '../clock';
import type { DurableStore } from '../store/durable-store';
import type { Services } from './index';
import { RequestLogUnavailableError } from './request-log/index';

/** Facts about the running server that no service holds. */
export interface ServerFacts {
  /** The server's own base URL (`http://127.0.0.1:8585`), known once it listens. */
  url: string;
  startedAt: number;
  dataDir: string;
  version: string;
}

export interface AdminHandlerDeps {
  services: Pick<Services, 'tenants' | 'scimTokens' | 'requestLog' | 'history'>;
  store: Pick<DurableStore, 'listTenants' | 'tenant' | 'stats'>;
  server: () => ServerFacts;
  clock: Clock;
}

/**
 * How long the history waits for the request log to name requests. The log runs on a worker that
 * can be busy or restarting; a timeline without links is better than one that does not come.
 */
const SEQ_LOOKUP_MS = 2_000;

function withinMs<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The admin contract's operations, mapped onto the services. HTTP and IPC both call these. */
export function createAdminHandlers({ services, store, server, clock }: AdminHandlerDeps): AdminHandlers {
  const { tenants, scimTokens, requestLog, history } = services;
  const found = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new AdminError('not_found', `${what} not found.`);
    return value;
  };
  /** A request log whose worker stopped for good says so (503), on HTTP and IPC alike, not "internal error". */
  const fromLog = <T>(pending: Promise<T>): Promise<T> =>
    pending.catch((error: unknown) => {
      if (!(error instanceof RequestLogUnavailableError)) throw error;
      throw new AdminError('unavailable', `The request log is unavailable (${error.message}); restart scimdesk.`);
    });
  /**
   * Names the request log entries of the requests that made these versions. The history keeps only
   * the request's id (the log numbers a request after the history has recorded its change), so the
   * seq is looked up here; a log that no longer holds the entry, or is down, leaves it null.
   */
  const withRequestSeqs = async <V extends HistoryVersion>(tenantId: string, versions: V[]): Promise<V[]> => {
    const ids = [...new Set(versions.flatMap((v) => (v.request_id === null ? [] : [v.request_id])))];
    if (ids.length === 0) return versions;
    const seqs = await withinMs(SEQ_LOOKUP_MS, requestLog.seqsOf(tenantId, ids)).catch(
      () => ({}) as Record<string, number>,
    );
    return versions.map((v) =>
      v.request_id !== null && seqs[v.request_id] ? { ...v, request_seq: seqs[v.request_id] } : v,
    );
  };
  return {
    listTenants: async (input) => tenants.list(input),
    createTenant: async (input) => tenants.create(input),
    getTenant: async ({ id }) => tenants.get(id),
    updateTenant: async ({ id, ...changes }) => tenants.update(id, changes),
    deleteTenant: async ({ id }) => {
      await tenants.delete(id);
    },
    listScimTokens: async (input) => scimTokens.list(input),
    createScimToken: async (input) => scimTokens.create(input),
    getScimEndpointInfo: async ({ tenant_id }) => endpointInfo(tenant_id, server().url, services),
    getScimToken: async ({ id }) => scimTokens.get(id),
    updateScimToken: async ({ id, ...changes }) => scimTokens.update(id, changes),
    revokeScimToken: async ({ id }) => {
      await scimTokens.revoke(id);
    },
    listRequestLogs: async (input) => {
      await requireLogFilterOwners(services, input);
      return fromLog(requestLog.list(input));
    },
    getRequestLog: async ({ id }) => found(await fromLog(requestLog.get(id)), `Request log entry ${id}`),
    getResourceHistory: async ({ tenant_id, kind, id, page, per_page, before_version }) => {
      tenants.get(tenant_id);
      const timeline = history.timeline(tenant_id, kind, id, { page, per_page, before_version });
      // No history and no such resource: an id of nothing (or of another tenant), not an empty past.
      const known = () =>
        history.timeline(tenant_id, kind, id, { page: 1, per_page: 1 }).total > 0 ||
        store.tenant(tenant_id)?.get(kind === 'User' ? 'users' : 'groups', id) !== undefined;
      if (timeline.total === 0 && !known()) {
        throw new AdminError('not_found', `${kind} ${id} not found in tenant ${tenant_id}, nor in its history.`);
      }
      return { ...timeline, items: await withRequestSeqs(tenant_id, timeline.items) };
    },
    getResourceVersion: async ({ tenant_id, kind, id, version }) => {
      tenants.get(tenant_id); // a missing tenant is named as such, not as a missing version
      const detail = found(await history.version(tenant_id, kind, id, version), `Version ${version} of ${kind} ${id}`);
      const [named] = await withRequestSeqs(tenant_id, [detail]);
      return named ?? detail;
    },
    diffResourceVersions: async ({ tenant_id, kind, id, from, to }) => {
      tenants.get(tenant_id);
      const diff = await history.diff(tenant_id, kind, id, from, to);
      if (diff) return diff;
      // Named as missing only where it is: "version 1 or 9" sent the reader to check a version that
      // was there. (A resource without history has neither.)
      const missing: number[] = [];
      for (const version of new Set([from, to])) {
        if ((await history.version(tenant_id, kind, id, version)) === undefined) missing.push(version);
      }
      const which = missing.length === 1 ? `Version ${missing[0]}` : `Versions ${from} and ${to}`;
      throw new AdminError('not_found', `${which} of ${kind} ${id} not found.`);
    },
    listCompatFlags: async () => compatFlagsDocument(),
    getServerStatus: async () => {
      const facts = server();
      const now = clock.now();
      const lastMinute = await fromLog(requestLog.list({ since: now - 60_000, page: 1, per_page: 1 }));
      const logStats = await fromLog(requestLog.stats());
      const storeStats = store.stats();
      const checkpointAt = storeStats.snapshotWrittenAt;
      const historyStats = history.stats();
      const memory = process.memoryUsage();
      return {
        version: facts.version,
        url: facts.url,
        started_at: new Date(facts.startedAt).toISOString(),
        uptime_seconds: Math.max(0, (now - facts.startedAt) / 1000),
        data_dir: facts.dataDir,
        tenants: store.listTenants().map((tenant) => {
          const reader = store.tenant(tenant.id);
          return {
            id: tenant.id,
            name: tenant.name,
            users: reader?.count('users') ?? 0,
            groups: reader?.count('groups') ?? 0,
            scim_tokens: reader?.count('scimTokens') ?? 0,
            active_scim_tokens: reader ? scimTokens.activeCount(tenant.id) : 0,
          };
        }),
        requests_last_minute: lastMinute.total,
        request_log: {
          entries: logStats.entries,
          bytes: logStats.bytes,
          dropped: logStats.dropped,
          anonymous_dropped: logStats.anonymous_dropped,
          write_errors: logStats.write_errors,
          last_error: logStats.last_error,
        },
        store: {
          journal_bytes: storeStats.journal.bytes,
          last_checkpoint_at: checkpointAt === undefined ? null : new Date(checkpointAt).toISOString(),
        },
        history: {
          records: historyStats.records,
          bytes: historyStats.bytes,
          dropped: historyStats.dropped,
          write_errors: historyStats.write_errors,
          last_error: historyStats.last_error,
        },
        memory: { rss: memory.rss, heap_used: memory.heapUsed },
      };
    },
  };
}

/**
 * A log filter naming a tenant or token that neither exists nor has entries is refused (404), as
 * `/scim-tokens?tenant_id=` is: answered with an empty list, a mistyped id reads as "no traffic".
 * One with entries is not: an IdP still calling a deleted tenant's path, or one whose base URL has
 * a mistyped tenant id, is logged under that id, and those entries are what its reader is after.
 * Nor is a tenant deleted while the server runs: a live stream that was told `tenant_deleted` and
 * goes on is reconnected with the same filter, which met a 404 until its IdP called again.
 */
export async function requireLogFilterOwners(
  { tenants, scimTokens, requestLog }: Pick<Services, 'tenants' | 'scimTokens' | 'requestLog'>,
  filter: { tenant_id?: string | undefined; token_id?: string | undefined },
): Promise<void> {
  // A log that cannot answer (its worker restarting) leaves the refusal to the lookup.
  const logged = (narrow: { tenant_id: string } | { token_id: string }) =>
    requestLog.list({ ...narrow, page: 1, per_page: 1 }).then(
      (page) => page.total > 0,
      () => false,
    );
  const { tenant_id: tenantId, token_id: tokenId } = filter;
  const noTenant = tenantId === undefined ? undefined : notFound(() => tenants.get(tenantId));
  if (noTenant && tenantId !== undefined && !tenants.wasDeleted(tenantId) && !(await logged({ tenant_id: tenantId }))) {
    throw noTenant;
  }
  const noToken = tokenId === undefined ? undefined : notFound(() => scimTokens.get(tokenId));
  if (noToken && tokenId !== undefined && !(await logged({ token_id: tokenId }))) throw noToken;
}

/** The not_found error `lookup` throws, if it does; any other error goes on up. */
function notFound(lookup: () => unknown): AdminError | undefined {
  try {
    lookup();
    return undefined;
  } catch (error) {
    if (error instanceof AdminError && error.code === 'not_found') return error;
    throw error;
  }
}

function endpointInfo(
  tenantId: string,
  server: string,
  { tenants, scimTokens }: AdminHandlerDeps['services'],
): ScimEndpointInfo {
  tenants.get(tenantId); // 404 for an unknown tenant
  const tokenScoped = `${server}/scim/v2`;
  return {
    tenant_id: tenantId,
    scim_base_url: tokenScoped,
    tenant_scim_base_url: `${server}/api/v1/tenants/${encodeURIComponent(tenantId)}/scim/v2`,
    authentication: { scheme: 'Bearer', header: 'Authorization: Bearer <SCIM token>', type: 'oauthbearertoken' },
    entra: {
      tenant_url: tokenScoped,
      secret_token: 'a SCIM token of this tenant (created with POST /api/v1/admin/scim-tokens/, shown once)',
    },
    okta: {
      base_url: tokenScoped,
      unique_identifier_field: 'userName',
      authentication_mode: 'HTTP Header (Bearer token)',
      supported_actions: [
        'Import New Users and Profile Updates',
        'Push New Users',
        'Push Profile Updates',
        'Push Groups',
      ],
    },
    active_tokens: scimTokens.activeCount(tenantId),
  };
}
