/**
 * The request log's worker thread (built as `out/main/request-log-worker.js`). It hosts the same
 * `createRequestLog` that runs in-thread in tests, so that redacting, serializing and writing
 * every entry costs the request thread only a structured clone (see thread.ts).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { systemClock } from '../../clock';
import type { Logger } from '../admin-dispatch';
import type { FeedFilter } from './feed';
import { createRequestLog, type RequestLog } from './request-log';
import type { CallMethod, FromWorker, RequestLogWorkerData, ToWorker } from './thread-messages';

/** Events sent to the main thread and not yet finished there, per subscription. */
const FEED_WINDOW = 64;

function requireParentPort(): MessagePort {
  if (!parentPort) throw new Error('request-log worker: must run as a worker thread');
  return parentPort;
}
const port = requireParentPort();
const send = (message: FromWorker) => port.postMessage(message);

function describe(value: unknown): string {
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  return typeof value === 'string' ? value : String(value);
}

const forward =
  (level: 'error' | 'warn' | 'info') =>
  (...args: unknown[]) =>
    send({ t: 'log', level, message: args.map(describe).join(' ') });
const log: Logger = { error: forward('error'), warn: forward('warn'), info: forward('info') };

interface Subscription {
  unsubscribe: () => void;
  inflight: number;
  release?: () => void;
}

function serve(requestLog: RequestLog): void {
  const subscriptions = new Map<number, Subscription>();

  async function call(method: CallMethod, args: unknown[]): Promise<unknown> {
    switch (method) {
      case 'list':
        return requestLog.list(args[0] as Parameters<RequestLog['list']>[0]);
      case 'get':
        return requestLog.get(String(args[0]));
      case 'seqsOf':
        return requestLog.seqsOf(String(args[0]), args[1] as string[]);
      case 'purgeTenant':
        return requestLog.purgeTenant(String(args[0]));
      case 'stats':
        return requestLog.stats();
      case 'flush':
        return requestLog.flush();
      case 'close':
        for (const subscription of subscriptions.values()) subscription.unsubscribe();
        subscriptions.clear();
        return requestLog.close();
    }
  }

  function subscribe(sub: number, afterSeq: number | undefined, filter: FeedFilter | undefined): void {
    const subscription: Subscription = { unsubscribe: () => undefined, inflight: 0 };
    subscriptions.set(sub, subscription);
    subscription.unsubscribe = requestLog.subscribe({ afterSeq, ...(filter ? { filter } : {}) }, (event) => {
      send({ t: 'event', sub, event });
      subscription.inflight++;
      // The feed waits while its listener's promise is pending: a slow consumer on the main thread
      // holds this subscription's cursor, never a growing queue.
      if (subscription.inflight < FEED_WINDOW) return;
      return new Promise<void>((resolve) => (subscription.release = resolve));
    });
  }

  port.on('message', (message: ToWorker) => {
    switch (message.t) {
      case 'record':
        for (const entry of message.entries) requestLog.record(entry);
        return;
      case 'limits':
        requestLog.setTenantLimits(message.tenantId, message.limits);
        return;
      case 'subscribe':
        subscribe(message.sub, message.afterSeq, message.filter);
        return;
      case 'unsubscribe': {
        const subscription = subscriptions.get(message.sub);
        subscriptions.delete(message.sub);
        subscription?.unsubscribe();
        subscription?.release?.();
        return;
      }
      case 'ack': {
        const subscription = subscriptions.get(message.sub);
        if (!subscription) return;
        subscription.inflight -= message.count;
        if (subscription.inflight < FEED_WINDOW && subscription.release) {
          const release = subscription.release;
          subscription.release = undefined;
          release();
        }
        return;
      }
      case 'call':
        call(message.method, message.args).then(
          (value) => send({ t: 'result', id: message.id, ok: true, value }),
          (error: unknown) =>
            send({
              t: 'result',
              id: message.id,
              ok: false,
              // The message alone: a stack in it printed "closing the request log failed: …" over
              // four lines where one was promised (durability probe).
              message: error instanceof Error ? error.message : describe(error),
              ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
            }),
        );
        return;
    }
  });
}

const options = workerData as RequestLogWorkerData;
createRequestLog({ dataDir: options.dataDir, limits: options.limits, clock: systemClock, log }).then(
  (requestLog) => {
    serve(requestLog);
    send({ t: 'ready' });
  },
  // A failed open is told to whoever starts the server (one line, say "the disk is full"), not debugged.
  (error: unknown) =>
    send({
      t: 'failed',
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof Error ? { name: error.name } : {}),
    }),
);
