import { Worker } from 'node:worker_threads';
import type { RequestLogEvent } from '@shared/request-log';
import type { Logger } from '../admin-dispatch';
import type { RequestLogInput } from './entry';
import type { RequestLogListener } from './feed';
import type { RequestLog, RequestLogLimits, RequestLogStats, TenantLogLimits } from './request-log';
import type { CallMethod, FromWorker, RequestLogWorkerData, ToWorker } from './thread-messages';

/**
 * The request log on a worker thread (DESIGN.md §4: logging must not slow a request). Redacting
 * and serializing an entry costs tens of microseconds, about a tenth of a durable create; here
 * the request thread only batches its entries and hands them over with one structured clone per
 * turn of the event loop, and the worker does the rest on the other core.
 *
 * The proxy keeps the `RequestLog` contract: `record` never throws or waits; calls are ordered
 * after every entry recorded before them (a query made right after a request sees it); a feed
 * listener that returns a promise gets nothing more until it settles. If the worker dies, the
 * error is logged, pending calls fail, and a new worker takes over the same folder (up to
 * MAX_RESTARTS times), re-subscribing live feeds from where they were.
 */

export interface RequestLogThreadOptions {
  /** The built worker script (`request-log-worker.js` beside the entry). */
  workerUrl: URL;
  dataDir: string;
  log: Logger;
  limits?: Partial<RequestLogLimits>;
}

/** Entries held while a worker starts; past this they are dropped and counted. */
const MAX_QUEUED = 10_000;
/**
 * Entries go across in batches: every message wakes the worker, and a wake-up costs more than
 * cloning a few entries. A batch leaves when it is this big or this old, or before any call.
 */
const BATCH_ENTRIES = 128;
const BATCH_MS = 5;
const MAX_RESTARTS = 3;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Subscriber {
  listener: RequestLogListener;
  /** Resume point for a restarted worker: the last seq this subscriber was given. */
  afterSeq: number | undefined;
  queue: RequestLogEvent[];
  busy: boolean;
  finished: number;
}

export class RequestLogUnavailableError extends Error {
  override readonly name = 'RequestLogUnavailableError';
}

export async function startRequestLogThread(options: RequestLogThreadOptions): Promise<RequestLog> {
  const { log } = options;
  const calls = new Map<number, Pending>();
  const subscribers = new Map<number, Subscriber>();
  const tenantLimits = new Map<string, TenantLogLimits | null>();
  let nextId = 1;
  let nextSub = 1;
  let batch: RequestLogInput[] = [];
  let batchTimer: NodeJS.Timeout | undefined;
  let acksScheduled = false;
  let droppedHere = 0;
  let restarts = 0;
  let closing = false;
  let worker: Worker;
  let ready = false;

  const post = (message: ToWorker) => worker.postMessage(message);

  function sendBatch(): void {
    if (batchTimer) clearTimeout(batchTimer);
    batchTimer = undefined;
    if (!ready || batch.length === 0) return;
    const entries = batch;
    batch = [];
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
    if (!ready) return;
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
    if (ready) post({ t: 'unsubscribe', sub });
  }

  /** Delivers queued events one at a time, waiting for a listener's promise like the in-thread feed. */
  function pump(sub: number, subscriber: Subscriber): void {
    while (!subscriber.busy && subscriber.queue.length > 0 && subscribers.has(sub)) {
      const event = subscriber.queue.shift() as RequestLogEvent;
      subscriber.afterSeq = event.type === 'gap' ? event.seq : event.entry.seq;
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
        else pending.reject(new Error(message.message));
        return;
      }
      case 'event': {
        const subscriber = subscribers.get(message.sub);
        if (!subscriber) return;
        subscriber.queue.push(message.event);
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

  /** Starts a worker and resolves once its log is open; rejects with the worker's own reason. */
  function spawn(): Promise<void> {
    const data: RequestLogWorkerData = { dataDir: options.dataDir, limits: options.limits };
    const started = new Worker(options.workerUrl, { workerData: data });
    worker = started;
    ready = false;
    return new Promise((resolve, reject) => {
      let settled = false;
      started.on('message', (message: FromWorker) => {
        if (message.t === 'ready' && !settled) {
          settled = true;
          ready = true;
          // A restarted worker picks up the tenants' caps and the live feeds where they were.
          for (const [tenantId, limits] of tenantLimits) post({ t: 'limits', tenantId, limits });
          for (const [sub, subscriber] of subscribers) post({ t: 'subscribe', sub, afterSeq: subscriber.afterSeq });
          sendBatch();
          resolve();
        } else if (message.t === 'failed' && !settled) {
          settled = true;
          reject(new RequestLogUnavailableError(`the request log could not open: ${message.message}`));
        } else {
          onMessage(message);
        }
      });
      started.on('error', (error) => {
        if (!settled) {
          settled = true;
          reject(error);
        } else {
          log.error('request log: the worker thread failed:', error);
        }
      });
      started.on('exit', (code) => {
        ready = false;
        if (!settled) {
          settled = true;
          reject(new RequestLogUnavailableError(`the request log worker exited with code ${code}`));
          return;
        }
        if (closing || worker !== started) return;
        failCalls(new RequestLogUnavailableError(`the request log worker stopped (exit code ${code})`));
        if (restarts >= MAX_RESTARTS) {
          log.error(`request log: the worker stopped ${restarts + 1} times; not recording any more entries`);
          return;
        }
        restarts++;
        log.warn(`request log: the worker stopped (exit code ${code}); starting a new one`);
        spawn().catch((error: unknown) => log.error('request log: could not restart the worker:', error));
      });
    });
  }

  function call<T>(method: CallMethod, ...args: unknown[]): Promise<T> {
    if (!ready) {
      return Promise.reject(new RequestLogUnavailableError('the request log is not available (its worker stopped)'));
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
      if (closing) {
        droppedHere++;
        return;
      }
      if (batch.length >= MAX_QUEUED) {
        droppedHere++;
        return;
      }
      batch.push(input);
      if (batch.length >= BATCH_ENTRIES) sendBatch();
      else batchTimer ??= setTimeout(sendBatch, BATCH_MS);
    },
    list: (query) => call('list', query),
    get: (id) => call('get', id),
    purgeTenant: (tenantId) => {
      tenantLimits.delete(tenantId);
      return call('purgeTenant', tenantId);
    },
    async stats() {
      const stats = await call<RequestLogStats>('stats');
      return { ...stats, dropped: stats.dropped + droppedHere };
    },
    flush: () => call('flush'),
    subscribe({ afterSeq }, listener) {
      const sub = nextSub++;
      subscribers.set(sub, { listener, afterSeq, queue: [], busy: false, finished: 0 });
      if (!ready) return () => dropSubscriber(sub);
      // Like a call, a subscription sees every entry recorded before it (a replay is complete).
      sendBatch();
      post({ t: 'subscribe', sub, afterSeq });
      return () => dropSubscriber(sub);
    },
    setTenantLimits(tenantId, limits) {
      tenantLimits.set(tenantId, limits);
      if (!ready) return;
      sendBatch();
      post({ t: 'limits', tenantId, limits });
    },
    async close() {
      if (closing) return;
      sendBatch();
      closing = true;
      subscribers.clear();
      try {
        if (ready) {
          const id = nextId++;
          await new Promise((resolve, reject) => {
            calls.set(id, { resolve, reject });
            post({ t: 'call', id, method: 'close', args: [] });
          });
        }
      } finally {
        await worker.terminate();
      }
    },
  };
}
