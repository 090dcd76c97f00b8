import { Worker } from 'node:worker_threads';
import type { RequestLogEvent } from '@shared/request-log';
import type { Logger } from '../admin-dispatch';
import type { RequestLogInput } from './entry';
import type { FeedFilter, RequestLogListener } from './feed';
import type { RequestLog, RequestLogLimits, RequestLogStats, TenantLogLimits } from './request-log';
import type { CallMethod, FromWorker, RequestLogWorkerData, ToWorker } from './thread-messages';
import { ForeignFolderError } from './segment-files';
import { NotWrittenOnCloseError } from '../../store/errors';

/**
 * The request log on a worker thread (DESIGN.md §4: logging must not slow a request). Redacting
 * and serializing an entry costs tens of microseconds, about a tenth of a durable create; here
 * the request thread only batches its entries and hands them over with one structured clone per
 * turn of the event loop, and the worker does the rest on the other core.
 *
 * The proxy keeps the `RequestLog` contract: `record` never throws or waits; calls are ordered
 * after every entry recorded before them (a query made right after a request sees it); a feed
 * listener that returns a promise gets nothing more until it settles. If the worker dies, the
 * error is logged, calls in flight fail, and a new worker takes over the same folder (up to
 * MAX_RESTARTS times in RESTART_WINDOW_MS); calls made meanwhile wait for it, and live feeds
 * resume after the last event they received. A worker that never came up is not restarted.
 */

export interface RequestLogThreadOptions {
  /** The built worker script (`request-log-worker.js` beside the entry). */
  workerUrl: URL;
  dataDir: string;
  log: Logger;
  limits?: Partial<RequestLogLimits>;
}

/** Entries held while a worker (re)starts; past either bound they are dropped and counted. */
const MAX_QUEUED = 10_000;
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/**
 * Entries go across in batches: every message wakes the worker, and a wake-up costs more than
 * cloning a few entries. A batch leaves when it is this big or this old, or before any call.
 */
const BATCH_ENTRIES = 128;
const BATCH_MS = 5;
/** More deaths than this within RESTART_WINDOW_MS and the log gives up (the worker is broken, not unlucky). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 10 * 60_000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Subscriber {
  listener: RequestLogListener;
  /** Resume point for a restarted worker: the last seq received from the old one (queued or given). */
  afterSeq: number | undefined;
  readonly filter: FeedFilter | undefined;
  queue: RequestLogEvent[];
  busy: boolean;
  finished: number;
}

export class RequestLogUnavailableError extends Error {
  override readonly name = 'RequestLogUnavailableError';
}

/** `running`: a worker answers; `restarting`: the last one died, the next is starting; `gone`: given up. */
type Lifecycle = 'running' | 'restarting' | 'gone' | 'closed';

/** A rough size of an entry for the bound on what waits during a restart. */
function approximateBytes(input: RequestLogInput): number {
  const size = (body: unknown) => (typeof body === 'string' ? body.length : body === undefined ? 0 : 4096);
  return 1024 + size(input.request?.body) + size(input.response?.body);
}

export async function startRequestLogThread(options: RequestLogThreadOptions): Promise<RequestLog> {
  const { log } = options;
  const calls = new Map<number, Pending>();
  const subscribers = new Map<number, Subscriber>();
  const tenantLimits = new Map<string, TenantLogLimits | null>();
  let nextId = 1;
  let nextSub = 1;
  let batch: RequestLogInput[] = [];
  let batchBytes = 0;
  let batchTimer: NodeJS.Timeout | undefined;
  let acksScheduled = false;
  let droppedHere = 0;
  let deaths: number[] = [];
  let state: Lifecycle = 'running';
  let worker: Worker;
  /** Calls made while a new worker starts wait here; settled when it is up or the log gives up. */
  let restarted: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;

  const ready = () => state === 'running';
  const post = (message: ToWorker) => worker.postMessage(message);

  function sendBatch(): void {
    if (batchTimer) clearTimeout(batchTimer);
    batchTimer = undefined;
    if (!ready() || batch.length === 0) return;
    const entries = batch;
    batch = [];
    batchBytes = 0;
    try {
      post({ t: 'record', entries });
    } catch {
      // One entry that cannot be cloned (a function, a stream) must not cost the others.
      for (const entry of entries) {
        try {
          post({ t: 'record', entries: [entry] });
        } catch (error) {
          droppedHere++;
          log.error('request log: could not record an entry', error);
        }
      }
    }
  }

  function sendAcks(): void {
    acksScheduled = false;
    if (!ready()) return;
    for (const [sub, subscriber] of subscribers) {
      if (subscriber.finished === 0) continue;
      post({ t: 'ack', sub, count: subscriber.finished });
      subscriber.finished = 0;
    }
  }

  function finishEvent(subscriber: Subscriber): void {
    subscriber.finished++;
    if (!acksScheduled) {
      acksScheduled = true;
      setImmediate(sendAcks);
    }
  }

  function dropSubscriber(sub: number): void {
    if (!subscribers.delete(sub)) return;
    if (ready()) post({ t: 'unsubscribe', sub });
  }

  /** Delivers queued events one at a time, waiting for a listener's promise like the in-thread feed. */
  function pump(sub: number, subscriber: Subscriber): void {
    while (!subscriber.busy && subscriber.queue.length > 0 && subscribers.has(sub)) {
      const event = subscriber.queue.shift() as RequestLogEvent;
      let result: void | Promise<void>;
      try {
        result = subscriber.listener(event);
      } catch (error) {
        log.warn('request log: a live-feed subscriber failed and was removed', error);
        dropSubscriber(sub);
        return;
      }
      if (result && typeof result.then === 'function') {
        subscriber.busy = true;
        result.then(
          () => {
            subscriber.busy = false;
            finishEvent(subscriber);
            pump(sub, subscriber);
          },
          (error: unknown) => {
            log.warn('request log: a live-feed subscriber failed and was removed', error);
            dropSubscriber(sub);
          },
        );
        return;
      }
      finishEvent(subscriber);
    }
  }

  function onMessage(message: FromWorker): void {
    switch (message.t) {
      case 'result': {
        const pending = calls.get(message.id);
        calls.delete(message.id);
        if (!pending) return;
        if (message.ok) pending.resolve(message.value);
        else pending.reject(Object.assign(new Error(message.message), message.stack ? { stack: message.stack } : {}));
        return;
      }
      case 'event': {
        const subscriber = subscribers.get(message.sub);
        if (!subscriber) return;
        const { event } = message;
        if (event.type !== 'tenant_deleted') subscriber.afterSeq = event.type === 'gap' ? event.seq : event.entry.seq;
        subscriber.queue.push(event);
        pump(message.sub, subscriber);
        return;
      }
      case 'log':
        log[message.level](message.message);
        return;
      default:
        return;
    }
  }

  function failCalls(error: Error): void {
    for (const pending of calls.values()) pending.reject(error);
    calls.clear();
  }

  /** Picks up where the dead worker left off: caps, then entries recorded meanwhile, then feeds. */
  function resume(): void {
    for (const [tenantId, limits] of tenantLimits) post({ t: 'limits', tenantId, limits });
    sendBatch();
    for (const [sub, subscriber] of subscribers) {
      // Credit for the old worker's events means nothing to the new one.
      subscriber.finished = 0;
      post({ t: 'subscribe', sub, afterSeq: subscriber.afterSeq, filter: subscriber.filter });
    }
  }

  /** A worker that was up has stopped: restart it, or give up if it keeps dying. */
  function onDeath(code: number): void {
    failCalls(new RequestLogUnavailableError(`the request log worker stopped (exit code ${code})`));
    if (closing) return;
    const now = Date.now();
    deaths = [...deaths.filter((at) => now - at < RESTART_WINDOW_MS), now];
    if (deaths.length > MAX_RESTARTS) {
      state = 'gone';
      droppedHere += batch.length;
      batch = [];
      batchBytes = 0;
      log.error(`request log: the worker stopped ${deaths.length} times; not recording any more entries`);
      return;
    }
    state = 'restarting';
    log.warn(`request log: the worker stopped (exit code ${code}); starting a new one`);
    // A close() that comes meanwhile waits for this, then closes the new worker properly.
    restarted = spawn().then(
      () => {
        state = 'running';
        resume();
      },
      (error: unknown) => {
        state = 'gone';
        log.error('request log: could not restart the worker; not recording any more entries:', error);
      },
    );
  }

  /**
   * Starts a worker and resolves once its log is open; rejects with the worker's own reason. Only a
   * worker that came up is restarted when it exits: one that failed to start is over (terminated).
   */
  function spawn(): Promise<void> {
    const data: RequestLogWorkerData = { dataDir: options.dataDir, limits: options.limits };
    let started: Worker;
    try {
      started = new Worker(options.workerUrl, { workerData: data });
    } catch (error) {
      return Promise.reject(error as Error);
    }
    worker = started;
    return new Promise((resolve, reject) => {
      let up = false;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        void started.terminate();
        reject(error);
      };
      started.on('message', (message: FromWorker) => {
        if (message.t === 'ready' && !settled) {
          settled = true;
          up = true;
          resolve();
        } else if (message.t === 'failed') {
          fail(
            // A folder another account owns is refused on any thread: said as itself, not retried.
            message.name === 'ForeignFolderError'
              ? new ForeignFolderError(message.message)
              : new RequestLogUnavailableError(`the request log could not open: ${message.message}`),
          );
        } else {
          onMessage(message);
        }
      });
      started.on('error', (error) => {
        if (!up) fail(error);
        else log.error('request log: the worker thread failed:', error);
      });
      started.on('exit', (code) => {
        if (!up) {
          fail(new RequestLogUnavailableError(`the request log worker exited with code ${code}`));
          return;
        }
        if (worker !== started) return;
        onDeath(code);
      });
    });
  }

  async function call<T>(method: CallMethod, ...args: unknown[]): Promise<T> {
    if (state === 'restarting') await restarted;
    if (!ready()) {
      throw new RequestLogUnavailableError(
        state === 'closed' ? 'the request log is closed' : 'its worker stopped and could not be replaced',
      );
    }
    // Everything recorded before this call goes first: the worker handles messages in order.
    sendBatch();
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      post({ t: 'call', id, method, args });
    });
  }

  await spawn();

  return {
    record(input) {
      if (state === 'gone' || state === 'closed') {
        droppedHere++;
        return;
      }
      const bytes = state === 'running' ? 0 : approximateBytes(input);
      if (batch.length >= MAX_QUEUED || batchBytes + bytes > MAX_QUEUED_BYTES) {
        droppedHere++;
        return;
      }
      batch.push(input);
      batchBytes += bytes;
      if (!ready()) return;
      if (batch.length >= BATCH_ENTRIES) sendBatch();
      else batchTimer ??= setTimeout(sendBatch, BATCH_MS);
    },
    list: (query) => call('list', query),
    get: (id) => call('get', id),
    seqsOf: (tenantId, requestIds) => call('seqsOf', tenantId, [...requestIds]),
    async purgeTenant(tenantId) {
      tenantLimits.delete(tenantId);
      // A deleted tenant must leave nothing behind: a purge cut off by a dying worker is made again
      // on the next one (purging twice is harmless).
      for (;;) {
        try {
          return await call<void>('purgeTenant', tenantId);
        } catch (error) {
          if (!(error instanceof RequestLogUnavailableError) || state !== 'restarting') throw error;
        }
      }
    },
    async stats() {
      const stats = await call<RequestLogStats>('stats');
      return { ...stats, dropped: stats.dropped + droppedHere };
    },
    flush: () => call('flush'),
    subscribe({ afterSeq, filter }, listener) {
      const sub = nextSub++;
      subscribers.set(sub, { listener, afterSeq, filter, queue: [], busy: false, finished: 0 });
      if (ready()) {
        // Like a call, a subscription sees every entry recorded before it (a replay is complete).
        sendBatch();
        post({ t: 'subscribe', sub, afterSeq, filter });
      }
      return () => dropSubscriber(sub);
    },
    setTenantLimits(tenantId, limits) {
      tenantLimits.set(tenantId, limits);
      if (!ready()) return;
      sendBatch();
      post({ t: 'limits', tenantId, limits });
    },
    close() {
      closing ??= (async () => {
        if (state === 'restarting') await restarted;
        const wasRunning = ready();
        if (wasRunning) sendBatch();
        state = 'closed';
        let failed: Error | undefined;
        subscribers.clear();
        try {
          if (wasRunning) {
            const id = nextId++;
            await new Promise((resolve, reject) => {
              calls.set(id, { resolve, reject });
              post({ t: 'call', id, method: 'close', args: [] });
            });
          }
        } catch (error) {
          // Told by whoever closes (services.close), with the stop's exit: the worker's own
          // failure, whose stack stayed in the worker.
          failed = new NotWrittenOnCloseError((error as Error).message);
        } finally {
          droppedHere += batch.length;
          batch = [];
          await worker.terminate();
        }
        if (failed) throw failed;
      })();
      return closing;
    },
  };
}
