import type { RequestLogEvent } from '@shared/request-log';
import type { Logger } from '../admin-dispatch';
import type { LogRow } from './entry';
import { structuredMatcher, type LogFilter } from './query';

/** What a subscriber may narrow its feed by: what one entry's summary can answer. */
export type FeedFilter = Pick<
  LogFilter,
  'tenant_id' | 'has_error' | 'source' | 'token_id' | 'method' | 'status' | 'path'
>;

/**
 * The live feed. Each subscriber is only a cursor (the last `seq` it was given) over the log's own
 * retained index: replay after `afterSeq` and live delivery are the same loop, and a slow
 * subscriber costs one cursor, never a growing queue. Whatever leaves the index before a cursor
 * reaches it (evicted by the caps, dropped while the disk was slow, purged) is reported to that
 * subscriber as one `gap` event with the count, before the next entry. A subscriber may follow one
 * tenant: its cursor moves over that tenant's entries only, and its gaps count only that tenant's
 * removed entries — another tenant's evictions are none of its business. Its other filters (errors
 * only, one method...) pass what they do not match in silence; a gap still counts every entry in
 * its scope that is gone, matching or not: nobody can say any more whether it would have matched.
 *
 * A listener that returns a promise is "busy" until it settles (an HTTP stream waiting for
 * `drain`); nothing more is delivered to it meanwhile. Delivery happens off the `record` call,
 * in batches, so neither a replay of 100,000 entries nor a stalled stream slows a SCIM request.
 */

export type RequestLogListener = (event: RequestLogEvent) => void | Promise<void>;

export interface FeedSource {
  /** The first retained entry after `seq`; with `tenant`, that tenant's. */
  firstAfter(seq: number, tenant?: string): LogRow | undefined;
  /** The last seq handed out (0 when none). */
  lastSeq(): number;
  /** How many of a tenant's entries with a seq in (after, upTo] are gone. */
  missedOfTenant(tenant: string, after: number, upTo: number): number;
}

/** Events delivered to one subscriber per turn of the event loop, before yielding. */
const BATCH = 256;

class Subscriber {
  busy = false;
  closed = false;
  /** Its tenant was deleted, with every entry up to `upTo`: this is said next, before anything else. */
  notice: { readonly event: RequestLogEvent; readonly upTo: number } | undefined;
  readonly tenant: string | undefined;
  readonly matches: ((row: LogRow) => boolean) | undefined;
  constructor(
    public cursor: number,
    readonly listener: RequestLogListener,
    filter: FeedFilter,
  ) {
    this.tenant = filter.tenant_id;
    const { tenant_id: _tenant, ...rest } = filter;
    this.matches = Object.values(rest).some((value) => value !== undefined) ? structuredMatcher(rest) : undefined;
  }
}

export class Feed {
  private readonly subscribers = new Set<Subscriber>();
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly source: FeedSource,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Without `afterSeq`, live entries only. With it, every retained entry after it first (an id
   * from a previous run is fine: seqs are never reused); an `afterSeq` beyond the last seq (a
   * stale id from another data folder) is read as "live from now".
   */
  subscribe(afterSeq: number | undefined, listener: RequestLogListener, filter: FeedFilter = {}): () => void {
    const last = this.source.lastSeq();
    const start =
      afterSeq === undefined || !Number.isFinite(afterSeq) || afterSeq > last ? last : Math.max(0, afterSeq);
    const subscriber = new Subscriber(Math.floor(start), listener, filter);
    this.subscribers.add(subscriber);
    this.schedule();
    return () => this.drop(subscriber);
  }

  /**
   * The tenant was deleted: each feed that follows it is told so next (after what it is being
   * given now), and goes on: an IdP still calling the deleted tenant's URL is logged under its id,
   * which is what the reader is after. Before, the feed fell silent with no word why.
   */
  tenantDeleted(tenantId: string): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.tenant !== tenantId) continue;
      subscriber.notice = { event: { type: 'tenant_deleted', tenant_id: tenantId }, upTo: this.source.lastSeq() };
    }
    this.notify();
  }

  /** New entries (or removals) happened: deliver on the next turn. */
  notify(): void {
    if (this.subscribers.size > 0) this.schedule();
  }

  close(): void {
    for (const subscriber of this.subscribers) subscriber.closed = true;
    this.subscribers.clear();
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  private drop(subscriber: Subscriber): void {
    subscriber.closed = true;
    this.subscribers.delete(subscriber);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      let more = false;
      for (const subscriber of this.subscribers) more = this.pump(subscriber) || more;
      if (more) this.schedule();
    });
  }

  /** Delivers up to one batch; true when this subscriber has more waiting and is not busy. */
  private pump(subscriber: Subscriber): boolean {
    for (let budget = BATCH; budget > 0; budget--) {
      if (subscriber.busy || subscriber.closed) return false;
      if (subscriber.notice) {
        const { event, upTo } = subscriber.notice;
        subscriber.notice = undefined;
        // Past the purged entries, with no gap: a deleted tenant's entries are not missed, they
        // are gone with it. What came after the purge is still to be given.
        subscriber.cursor = Math.max(subscriber.cursor, upTo);
        this.emit(subscriber, event);
        continue;
      }
      const { tenant } = subscriber;
      const next = this.source.firstAfter(subscriber.cursor, tenant);
      const gapEnd = next ? next.seq - 1 : this.source.lastSeq();
      if (gapEnd > subscriber.cursor) {
        // Unfiltered, every seq is an entry, so each one skipped was removed (seqs are dense).
        const missed =
          tenant === undefined
            ? gapEnd - subscriber.cursor
            : this.source.missedOfTenant(tenant, subscriber.cursor, gapEnd);
        subscriber.cursor = gapEnd;
        // A tenant's subscriber passes other tenants' entries in silence.
        if (missed > 0) this.emit(subscriber, { type: 'gap', missed, seq: gapEnd });
        continue;
      }
      if (!next) return false;
      subscriber.cursor = next.seq;
      if (subscriber.matches && !subscriber.matches(next)) continue;
      this.emit(subscriber, { type: 'entry', entry: next.toSummary() });
    }
    return !subscriber.busy && !subscriber.closed;
  }

  private emit(subscriber: Subscriber, event: RequestLogEvent): void {
    let result: void | Promise<void>;
    try {
      result = subscriber.listener(event);
    } catch (error) {
      this.fail(subscriber, error);
      return;
    }
    if (result && typeof result.then === 'function') {
      subscriber.busy = true;
      result.then(
        () => {
          subscriber.busy = false;
          if (!subscriber.closed) this.schedule();
        },
        (error: unknown) => this.fail(subscriber, error),
      );
    }
  }

  /** A listener that throws is unsubscribed: one broken stream must not stop the others. */
  private fail(subscriber: Subscriber, error: unknown): void {
    this.drop(subscriber);
    this.log.warn('request log: a live-feed subscriber failed and was removed', error);
  }
}
