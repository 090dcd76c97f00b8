import { coreSchemaRegistry, type SchemaRegistry } from '@shared/scim/registry';
import type { Clock } from '../clock';
import type { DurableStore } from '../store/durable-store';
import { NotWrittenOnCloseError, StoreFailedError } from '../store/errors';
import type { Logger } from './admin-dispatch';
import { IdentityService } from './identities/identity-service';
import { createPasswordHasher, type PasswordHasher, type PasswordHasherOptions } from './password-hasher';
import { createRequestLog, startRequestLogThread, type RequestLog, type RequestLogInput } from './request-log/index';
import { ForeignFolderError } from './request-log/segment-files';
import { createResourceHistory, type ResourceHistory } from './resource-history/index';
import { ScimTokenService } from './scim-tokens';
import { openPendingPurges } from './pending-purges';
import { turnQueue } from './turn-queue';
import { createTenantService, type TenantService } from './tenants';

export interface Services {
  tenants: TenantService;
  identities: IdentityService;
  scimTokens: ScimTokenService;
  requestLog: RequestLog;
  history: ResourceHistory;
  registry: SchemaRegistry;
  /** Flushes what services hold in memory (token last-use times, log buffers) and stops workers. */
  close(): Promise<void>;
}

export interface ServicesOptions {
  store: DurableStore;
  clock: Clock;
  /** The data folder: the request log and the history keep their own files there. */
  dataDir: string;
  log: Logger;
  hasher?: PasswordHasherOptions;
  /** Runs the request log on a worker thread from this built script (see request-log/thread.ts). */
  requestLogWorker?: URL | undefined;
  /** The page cap ServiceProviderConfig advertises as `filter.maxResults`. */
  maxResults?: number;
}

/**
 * The request log on its thread when a built worker is given. A worker that cannot start at all
 * (a packaging that cannot load it, say, which CI cannot try: it has no Electron) must not stop the
 * server: the log then runs on the event loop, slower, and the log says so.
 */
async function openRequestLog(options: ServicesOptions): Promise<RequestLog> {
  const { clock, dataDir, log } = options;
  if (options.requestLogWorker) {
    try {
      return await startRequestLogThread({ workerUrl: options.requestLogWorker, dataDir, log });
    } catch (error) {
      if (error instanceof ForeignFolderError) throw error;
      // One line: the cause's message, not its stack (a console prints an Error object whole).
      log.warn(
        `request log: its worker thread did not start (${(error as Error).message}); logging on the main thread instead`,
      );
    }
  }
  return recordingAfterThisTurn(await createRequestLog({ dataDir, clock, log }));
}

/**
 * A deleted tenant leaves nothing behind: its purge removes what the log holds, and this drops
 * what its requests under way when the store forgot it record afterwards (a create that was hashing
 * a password when the tenant went answers 404 and is logged after the purge). A request that comes
 * later is logged under the deleted tenant's id, as one to a mistyped id is: an IdP still calling
 * a deleted tenant's path is what the log's reader is after (see requireLogFilterOwners).
 */
function forgettingDeletedTenants(
  requestLog: RequestLog,
  clock: Clock,
): RequestLog & { forget(tenantId: string): void } {
  /** When the store forgot each tenant deleted while this process runs. */
  const forgottenAt = new Map<string, number>();
  return {
    ...requestLog,
    record: (input) => {
      const at = input.tenant_id ? forgottenAt.get(input.tenant_id) : undefined;
      if (at !== undefined && input.started_at <= at) return;
      requestLog.record(input);
    },
    forget: (tenantId) => forgottenAt.set(tenantId, clock.now()),
  };
}

/**
 * The history's counterpart of forgettingDeletedTenants: a write acknowledged as its tenant was
 * deleted (the same journal batch) queues its record for a turn that can come after the purge,
 * and a record reopened the deleted tenant's history, written to disk for good and never purged
 * (history probe: 1 tenant in 10 deleted under eight writers). No write of a tenant the store has
 * forgotten can succeed, so every later record is of a deleted tenant.
 */
function forgettingDeletedTenantsHistory(
  history: ResourceHistory,
): ResourceHistory & { forget(tenantId: string): void } {
  const forgotten = new Set<string>();
  return {
    ...history,
    recordCreate: (tenant, ...rest) => (forgotten.has(tenant) ? undefined : history.recordCreate(tenant, ...rest)),
    recordChange: (tenant, ...rest) => (forgotten.has(tenant) ? undefined : history.recordChange(tenant, ...rest)),
    recordDelete: (tenant, ...rest) => (forgotten.has(tenant) ? undefined : history.recordDelete(tenant, ...rest)),
    forget: (tenantId) => forgotten.add(tenantId),
  };
}

/**
 * On the event loop, redacting and serializing an entry costs tens of microseconds: each one is
 * recorded right after the turn that captured it (the response is on its way by then), in order.
 * The objects an entry holds (headers, bodies) are not changed once the response is sent.
 */
function recordingAfterThisTurn(requestLog: RequestLog): RequestLog {
  const queue = turnQueue<RequestLogInput>((entry) => requestLog.record(entry));
  // A call sees every entry recorded before it, as with the log's thread.
  const first =
    <A extends unknown[], R>(call: (...args: A) => R) =>
    (...args: A): R => {
      queue.drain();
      return call(...args);
    };
  return {
    record: (input) => queue.push(input),
    list: first(requestLog.list),
    get: first(requestLog.get),
    seqsOf: first(requestLog.seqsOf),
    subscribe: first(requestLog.subscribe),
    setTenantLimits: first(requestLog.setTenantLimits),
    purgeTenant: first(requestLog.purgeTenant),
    stats: first(requestLog.stats),
    flush: first(requestLog.flush),
    close: first(requestLog.close),
  };
}

export async function createServices(options: ServicesOptions): Promise<Services> {
  const { store, clock, dataDir, log } = options;
  const registry = coreSchemaRegistry();
  const pendingPurges = await openPendingPurges(dataDir, log);
  const requestLog = forgettingDeletedTenants(await openRequestLog(options), clock);
  const history = forgettingDeletedTenantsHistory(await createResourceHistory({ dataDir, log }));
  const hasher: PasswordHasher = createPasswordHasher(options.hasher);
  const scimTokens = new ScimTokenService(store, clock);
  const tenants = createTenantService(store, clock);

  // A tenant's own log cap follows its settings; a deleted tenant leaves nothing behind.
  for (const tenant of store.listTenants()) {
    if (tenant.log_max_entries !== undefined)
      requestLog.setTenantLimits(tenant.id, { maxEntries: tenant.log_max_entries });
  }
  tenants.onChanged((tenant) => requestLog.setTenantLimits(tenant.id, { maxEntries: tenant.log_max_entries }));
  // Purges whose snapshot is still being written (see purge): closing waits for them, so that the
  // note that one is done is not written after the store has let go of the data folder.
  const finishing = new Set<Promise<void>>();
  const purge = async (tenantId: string) => {
    requestLog.forget(tenantId);
    history.forget(tenantId);
    requestLog.setTenantLimits(tenantId, null);
    let purged = true;
    await requestLog.purgeTenant(tenantId).catch((error: unknown) => {
      // The tenant is gone from the store already; a log that cannot purge must not undo that.
      // The next start tries again.
      purged = false;
      log.error(`request log: could not remove the entries of deleted tenant ${tenantId}:`, error);
    });
    await history.purgeTenant(tenantId).catch((error: unknown) => {
      purged = false;
      log.error(`resource history: could not remove the records of deleted tenant ${tenantId}:`, error);
    });
    // The journal still holds every write the tenant had since the last snapshot, its users and
    // token hashes in plain text, until a snapshot without it is written: with less than 1 MiB of
    // journal, none came before a clean stop (durability probe). Not waited for: the delete is
    // done, and writes go on meanwhile. The tenant stays listed until that snapshot is written,
    // so that a crash before it (a 10 MB snapshot under load took over 10 s) makes the next start
    // purge and write it again; it left them in the journal for good. Left listed after a failure,
    // the purge is made again at the next start: harmless, where a failure here would answer 500
    // for a delete that was made.
    const done = store
      .checkpointFromNow()
      .catch((error: unknown) => {
        purged = false;
        log.error(
          `could not write a snapshot without deleted tenant ${tenantId} (its writes stay in the journal until one is written):`,
          error,
        );
      })
      .then(() => (purged ? pendingPurges.remove(tenantId) : undefined))
      .catch((error: unknown) => {
        log.error(`could not note that deleted tenant ${tenantId} is purged (the next start purges it again):`, error);
      })
      .finally(() => finishing.delete(done));
    finishing.add(done);
  };
  // What a crash cut short: the store forgot these tenants, and their log entries and history are
  // still on disk. One still in the store was not deleted (the crash came first, or the store
  // refused the delete).
  // A failure is told and the tenant left listed for the next start: the server still starts.
  for (const tenantId of pendingPurges.list()) {
    try {
      if (store.getTenant(tenantId) !== undefined) {
        await pendingPurges.remove(tenantId);
        continue;
      }
      log.info(`finishing the delete of tenant ${tenantId}: removing its request log entries and history`);
      await purge(tenantId);
    } catch (error) {
      log.error(`could not finish the delete of tenant ${tenantId} (the next start tries again):`, error);
    }
  }
  tenants.onDeleting((tenantId) => pendingPurges.add(tenantId));
  tenants.onDeleted(purge);

  return {
    tenants,
    identities: new IdentityService({ store, registry, hasher, clock, history, maxResults: options.maxResults }),
    scimTokens,
    requestLog,
    history,
    registry,
    /**
     * Closes each service even when one before it fails: after a store failure the tokens' last
     * uses cannot be written, and the log and history must still flush what they hold. Rejects
     * with the first failure once all are closed.
     */
    async close() {
      const failures: unknown[] = [];
      await Promise.all(finishing);
      for (const [name, close] of [
        ['SCIM tokens', () => scimTokens.close()],
        ['password hasher', () => hasher.close()],
        ['resource history', () => history.close()],
        ['request log', () => requestLog.close()],
      ] as const) {
        try {
          await close();
        } catch (error) {
          // A store that failed was already reported in full when it failed (a full disk, say):
          // here one line says what it kept from closing; anything else is a bug, with its stack.
          if (error instanceof StoreFailedError || error instanceof NotWrittenOnCloseError) {
            log.error(`closing the ${name} failed: ${error.message}`);
          } else log.error(`closing the ${name} failed:`, error);
          failures.push(error);
        }
      }
      if (failures.length > 0) throw failures[0];
    },
  };
}
