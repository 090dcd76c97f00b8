/**
 * The composition root, shared by the desktop shell and the headless CLI: open the store, build the
 * services, start HTTP. Nothing here imports Electron.
 */
import { createServer } from 'node:net';
import { AdminSignouts } from './auth/admin-signouts';
import { AdminTokens } from './auth/admin-tokens';
import { LoginCodes } from './auth/login-codes';
import { loadOrCreateSigningKey } from './auth/signing-key';
import { systemClock, type Clock } from './clock';
import { refuseEmptyStoreOverHistory, startFailure } from './data-dir';
import { refuseEntriesOfWrongKind } from './data-entries';
import { createHttpApp } from './http/create-app';
import { recordListenerRefusals } from './http/capture';
import { HttpListener, type ListeningAddress, type ShutdownOptions, type ShutdownOutcome } from './http/listener';
import { DEFAULT_SERVER_CAPABILITIES, type ServerCapabilities } from './scim/service-provider-config';
import { createAdminHandlers, requireLogFilterOwners } from './services/admin-handlers';
import type { Logger } from './services/admin-dispatch';
import { createServices, type Services } from './services/index';
import type { PasswordHasherOptions } from './services/password-hasher';
import { openDurableStore, type DurableStore } from './store/durable-store';
import { liveHolderOf } from './store/lock';
import type { AdminHandlers } from '@shared/contract';

export interface ScimdeskOptions {
  host: string;
  port: number;
  dataDir: string;
  /** The built renderer, served as the headless console. */
  rendererDir: string;
  clock?: Clock;
  log?: Logger;
  /**
   * The built request-log worker script; without it the request log runs on the request thread
   * (tests from sources, which have no built worker).
   */
  requestLogWorker?: URL;
  /** The password hasher's pool and limits (tests make it small). */
  hasher?: PasswordHasherOptions;
  /** The app's version, shown by the status operation. */
  version?: string;
  /**
   * What the server advertises in ServiceProviderConfig and enforces: page cap, Bulk limits
   * (tests make them small). One value for both, so what is said is what is done.
   */
  capabilities?: ServerCapabilities;
  /**
   * Called when the data folder can no longer be written (a failed journal fsync). Nothing
   * acknowledged is lost, but the server cannot go on; the caller should stop it and say why.
   */
  onFatal?: (error: Error) => void;
}

export interface RunningScimdesk {
  readonly address: ListeningAddress;
  readonly handlers: AdminHandlers;
  /** The open store (its stats, and fault injection in tests). */
  readonly store: DurableStore;
  /** A one-time console login URL (DESIGN.md §3). */
  consoleLoginUrl(): string;
  /**
   * Stops accepting, finishes in-flight requests, then releases everything. Says how many
   * connections were cut before their answers were sent whole because they stopped moving (see HttpListener.close).
   */
  close(options?: ShutdownOptions): Promise<ShutdownOutcome>;
}

/** Admin sessions from the console's one-time code last a working day. */
const SESSION_TTL_SECONDS = 12 * 3600;

function storeLog(log: Logger) {
  return {
    info: (message: string) => log.info(`store: ${message}`),
    warn: (message: string) => log.warn(`store: ${message}`),
    error: (message: string) => log.error(`store: ${message}`),
  };
}

export async function startScimdesk(options: ScimdeskOptions): Promise<RunningScimdesk> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? console;
  const capabilities = options.capabilities ?? DEFAULT_SERVER_CAPABILITIES;

  await canListen(options.host, options.port).catch(async (error: unknown) => {
    // The usual reason: this folder's server is running already, on that very port.
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw (await liveHolderOf(options.dataDir)) ?? error;
    throw error;
  });
  await refuseEntriesOfWrongKind(options.dataDir);
  const store = await openDurableStore(options.dataDir, {
    log: storeLog(log),
    onFailure: (error) => options.onFatal?.(error),
  }).catch((error: unknown) => {
    throw startFailure(options.dataDir, error);
  });
  await refuseEmptyStoreOverHistory(options.dataDir, store.stats().seq).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  let key: Uint8Array;
  let signouts: AdminSignouts;
  try {
    key = await loadOrCreateSigningKey(options.dataDir);
    signouts = await AdminSignouts.open(options.dataDir, clock);
  } catch (error) {
    await store.close();
    throw startFailure(options.dataDir, error);
  }
  const tokens = new AdminTokens(key, clock, signouts);
  const loginCodes = new LoginCodes(clock);
  let services: Services;
  try {
    services = await createServices({
      store,
      clock,
      dataDir: options.dataDir,
      log,
      requestLogWorker: options.requestLogWorker,
      hasher: options.hasher,
      maxResults: capabilities.filter.maxResults,
    });
  } catch (error) {
    await store.close();
    throw startFailure(options.dataDir, error);
  }
  const facts = {
    url: `http://${options.host}:${options.port}`,
    startedAt: clock.now(),
    dataDir: options.dataDir,
    version: options.version ?? '0.0.0',
  };
  const handlers = createAdminHandlers({ services, store, server: () => facts, clock });

  const streams = new Set<() => void>();
  const app = createHttpApp({
    handlers,
    tokens,
    loginCodes,
    capabilities,
    rendererDir: options.rendererDir,
    sessionTtlSeconds: SESSION_TTL_SECONDS,
    log,
    registry: services.registry,
    identities: services.identities,
    scimTokens: services.scimTokens,
    store,
    requestLog: services.requestLog,
    requireLogFilterOwners: (filter) => requireLogFilterOwners(services, filter),
    clock,
    streams,
  });
  const listener = new HttpListener(app, {
    onRefused: recordListenerRefusals(services.requestLog, clock, (secret) => services.scimTokens.identify(secret)),
    // Each commit is work done: a Bulk request writing a user at a time is not stuck.
    activity: () => store.stats().seq,
  });
  let address: ListeningAddress;
  try {
    address = await listener.listen(options.host, options.port);
    // Handed to IdPs (endpoint-info): an address they can reach, not `0.0.0.0`.
    facts.url = address.reachable.network;
  } catch (error) {
    await services.close();
    await store.close();
    throw error;
  }

  let closing: Promise<ShutdownOutcome> | undefined;
  return {
    address,
    handlers,
    store,
    // DESIGN.md §3: `console: http://H:P/#code=…`, the H it listens on (`serve` prints where it is
    // reached too when that differs).
    consoleLoginUrl: () => `${address.url}/#code=${loginCodes.issue()}`,
    // In-flight requests finish first, then the store flushes and releases the data-folder lock.
    // The store closes (releasing the data folder's lock) even when a service fails to.
    close: (shutdown) =>
      (closing ??= (async () => {
        for (const stop of [...streams]) stop();
        const outcome = await listener.close(shutdown);
        try {
          await services.close();
        } finally {
          await store.close();
        }
        return outcome;
      })()),
  };
}

/**
 * Fails as listening would (a port in use, a host that is no address of this machine) before the
 * data folder is made, locked and replayed: a start that could not listen did all that first,
 * seconds of replay for a large folder, and made a default folder no server would use. A port taken
 * between this and the real listen still fails there, as before.
 */
async function canListen(host: string, port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(port, host, () => resolve());
  });
  await new Promise((resolve) => probe.close(resolve));
}
