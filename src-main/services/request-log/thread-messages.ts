import type { RequestLogEvent } from '@shared/request-log';
import type { RequestLogInput } from './entry';
import type { FeedFilter } from './feed';
import type { RequestLogLimits, TenantLogLimits } from './request-log';

/**
 * Messages between the request log's worker thread and its proxy on the main thread. Both ends are
 * this build's own code, exchanged by structured clone inside one process, so the types are the
 * contract (no zod here: nothing crosses a trust boundary; the disk side is checked by the log).
 */

export interface RequestLogWorkerData {
  dataDir: string;
  limits?: Partial<RequestLogLimits>;
}

/** The proxy's awaited operations, by name, with their arguments. */
export type CallMethod = 'list' | 'get' | 'seqsOf' | 'purgeTenant' | 'stats' | 'flush' | 'close';

export type ToWorker =
  | { t: 'record'; entries: RequestLogInput[] }
  | { t: 'call'; id: number; method: CallMethod; args: unknown[] }
  | { t: 'limits'; tenantId: string; limits: TenantLogLimits | null }
  | { t: 'subscribe'; sub: number; afterSeq: number | undefined; filter: FeedFilter | undefined }
  | { t: 'unsubscribe'; sub: number }
  /** The main thread finished `count` events of this subscription (its listener settled). */
  | { t: 'ack'; sub: number; count: number };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'failed'; message: string; name?: string }
  | { t: 'result'; id: number; ok: true; value: unknown }
  /** `message` one line (it is what a caller prints); `stack` the worker's, for a local log. */
  | { t: 'result'; id: number; ok: false; message: string; stack?: string }
  | { t: 'event'; sub: number; event: RequestLogEvent }
  | { t: 'log'; level: 'error' | 'warn' | 'info'; message: string };
