import { join } from 'node:path';
import {
  RequestLogEntry,
  RequestLogSummary,
  subMillisecondDigits,
  type RequestLogEntry as Entry,
  type RequestLogSummary as Summary,
} from '@shared/request-log';
import type { Page } from '@shared/paging';
import type { Clock } from '../../clock';
import type { Logger } from '../admin-dispatch';
import { buildEntry, Interner, rowFromSummary, type LogRow, type RequestLogInput } from './entry';
import { Feed, type FeedFilter, type RequestLogListener } from './feed';
import { SeqRanges } from './seq-ranges';
import { LogIndex, refusedForCredential } from './log-index';
import { readLogMeta, writeLogMeta, type LogMeta } from './meta-file';
import {
  indexedTextMatch,
  lineIsFor,
  lineMatches,
  structuredMatcher,
  textNeedle,
  type LogFilter,
  type TextNeedle,
} from './query';
import { DEFAULT_BODY_LIMIT } from './redact';
import { AppendError, SegmentFiles, type Loc, type SegmentIo } from './segment-files';
import { FlushTimer, SerialQueue } from './serial';
import { NotWrittenOnCloseError } from '../../store/errors';

/**
 * The request log (issue #7, DESIGN.md §3-4): every HTTP request, redacted, capped, queryable and
 * streamed live, in its own folder `<dataDir>/request-log/` — never in the store's journal, which
 * must not be slowed by logging.
 *
 * `record` is synchronous and cheap: redact, serialize, append to the in-memory index and the write
 * buffer, wake the feed. A timer writes the buffer in batches (no fsync: the last moments of log
 * may be lost on a power cut). When the disk is slow or failing the buffer is bounded: the oldest
 * buffered entries are dropped and counted, and errors go to the logger, never to the caller.
 */

export interface RequestLogLimits {
  /** Entries kept in total (DESIGN.md §4: 100,000). */
  maxEntries: number;
  /** Bytes on disk plus buffered (DESIGN.md §4: 256 MB). Whole segments are deleted to stay under it. */
  maxBytes: number;
  /** A body is cut past this many serialized bytes (64 KiB). */
  bodyLimitBytes: number;
  /** Segment size; default `maxBytes / 16` within [64 KiB, 16 MiB], so the byte cap frees ~6% at a time. */
  segmentBytes: number;
  /** The write buffer is flushed this often (ms)... */
  flushIntervalMs: number;
  /** ...or as soon as it holds this many bytes. */
  flushBytes: number;
  /** Past this the oldest buffered entries are dropped (the disk is slow or failing). */
  maxBufferedBytes: number;
  /**
   * Entries of anonymous requests (see RequestLogInput.anonymous) taken per second on average, and
   * at most at once; the others are counted, not logged. Any web page can have its visitor's
   * browser send such requests to 127.0.0.1 (an <img>, a no-cors fetch: ~180 a second), and 100,000
   * of them pushed every real entry out of the log in minutes. Their bodies are cut at
   * `anonymousBodyBytes`, their path and query at 2,048 characters.
   */
  anonymousPerSecond: number;
  anonymousBurst: number;
  anonymousBodyBytes: number;
}

export const DEFAULT_REQUEST_LOG_LIMITS: Omit<RequestLogLimits, 'segmentBytes'> = {
  maxEntries: 100_000,
  maxBytes: 256 * 1024 * 1024,
  bodyLimitBytes: DEFAULT_BODY_LIMIT,
  flushIntervalMs: 200,
  flushBytes: 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  anonymousPerSecond: 2,
  anonymousBurst: 100,
  anonymousBodyBytes: 4096,
};

export interface RequestLogOptions {
  dataDir: string;
  clock: Clock;
  log: Logger;
  limits?: Partial<RequestLogLimits>;
  /** For tests: a file system that fails on demand. */
  io?: SegmentIo;
}

export interface TenantLogLimits {
  maxEntries: number;
}

/** `since`/`until` as epoch ms or ISO 8601 (the admin contract's parsed query can be passed as is). */
export type RequestLogListQuery = Omit<LogFilter, 'since' | 'until'> & {
  since?: number | string;
  until?: number | string;
  page: number;
  per_page: number;
};

function toMs(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Entries are stamped to the millisecond, and Date.parse drops digits past it: a `since` of
 * `.5001` would take in an entry at `.500`, which is before it. Such a `since` starts at the next
 * millisecond. (An `until` of `.5001` rightly keeps the millisecond it is in.)
 */
function sinceMs(since: number | string | undefined): number | undefined {
  const ms = toMs(since);
  return ms !== undefined && typeof since === 'string' && subMillisecondDigits(since) !== '' ? ms + 1 : ms;
}

export interface RequestLogStats {
  entries: number;
  /** On disk plus buffered. */
  bytes: number;
  segments: number;
  buffered: number;
  last_seq: number;
  /** Lost because the write buffer was full (disk slow or failing). */
  dropped: number;
  /** Anonymous requests not logged, over their rate (see RequestLogLimits.anonymousPerSecond). */
  anonymous_dropped: number;
  /** Removed by the count and byte caps. */
  evicted: number;
  purged: number;
  write_errors: number;
  last_error: string | null;
  /** Lines on disk that were not valid entries at start-up (skipped). */
  corrupt_lines: number;
  subscribers: number;
}

export interface RequestLog {
  /** Never throws, never waits for the disk. */
  record(input: RequestLogInput): void;
  list(query: RequestLogListQuery): Promise<Page<Summary>>;
  get(id: string): Promise<Entry | undefined>;
  /**
   * The seqs of the tenant's retained entries with these request ids (see http/request-ids.ts), by
   * id; ids with no such entry (never logged, evicted, another tenant's) are left out.
   */
  seqsOf(tenantId: string, requestIds: readonly string[]): Promise<Record<string, number>>;
  /** With `filter.tenant_id`, that tenant's entries only, and gaps that count only what it missed. */
  subscribe(options: { afterSeq?: number; filter?: FeedFilter }, listener: RequestLogListener): () => void;
  /** `null` removes the tenant's own cap. Persisted in the log's folder. */
  setTenantLimits(tenantId: string, limits: TenantLogLimits | null): void;
  /** Gone from queries at once; resolves once the tenant's lines are also gone from disk. */
  purgeTenant(tenantId: string): Promise<void>;
  stats(): Promise<RequestLogStats>;
  /** Writes what is buffered now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Seqs are reserved this many at a time in meta.json (see meta-file.ts). */
const SEQ_BLOCK = 10_000;
/** Free-text search reads lines from disk in spans of about this size. */
const SEARCH_SPAN = 1024 * 1024;

function resolveLimits(partial: Partial<RequestLogLimits> | undefined): RequestLogLimits {
  const merged = { ...DEFAULT_REQUEST_LOG_LIMITS, ...partial };
  const segmentBytes =
    partial?.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(merged.maxBytes / 16)));
  return { ...merged, segmentBytes };
}

export async function createRequestLog(options: RequestLogOptions): Promise<RequestLog> {
  const limits = resolveLimits(options.limits);
  const { clock, log } = options;
  const dir = join(options.dataDir, 'request-log');
  const index = new LogIndex();
  const interner = new Interner();
  const segmentLive = new Map<number, number>();
  const disk = new SerialQueue();
  const metaQueue = new SerialQueue();
  const counters = { dropped: 0, evicted: 0, purged: 0, writeErrors: 0, corrupt: 0, anonymousDropped: 0 };
  // A token bucket for anonymous entries: full at start, refilled with time.
  let anonymousTokens = limits.anonymousBurst;
  let anonymousRefilledAt = clock.now();
  const takeAnonymous = (): boolean => {
    const now = clock.now();
    const refill = ((now - anonymousRefilledAt) / 1000) * limits.anonymousPerSecond;
    anonymousTokens = Math.min(limits.anonymousBurst, anonymousTokens + Math.max(0, refill));
    anonymousRefilledAt = now;
    if (anonymousTokens < 1) return false;
    anonymousTokens -= 1;
    return true;
  };
  let lastError: string | null = null;
  let failing = false;
  let closed = false;

  // The write buffer: rows in seq order; removed rows are skipped when written.
  let pending: LogRow[] = [];
  let pendingHead = 0;
  let pendingBytes = 0;

  const saved = await readLogMeta(dir);
  if (saved.problem) {
    log.warn(
      `request log: ${saved.problem}; started without it: numbering goes on from the entries on disk, ` +
        "and entries a tenant's cap had removed may show again",
    );
  }
  const meta: LogMeta = saved.meta ?? {
    version: 1,
    reserved_seq: 0,
    tenant_limits: {},
    tenant_floors: {},
    tenant_refused_floors: {},
    global_floor: 0,
    global_refused_floor: 0,
  };
  let globalFloor = meta.global_floor;
  let globalRefusedFloor = meta.global_refused_floor;
  const tenantLimits = new Map(Object.entries(meta.tenant_limits));
  const tenantFloors = new Map(Object.entries(meta.tenant_floors));
  const refusedFloors = new Map(Object.entries(meta.tenant_refused_floors));
  let lastSeq = 0;
  /**
   * Seqs a restart finds no line for, so no tenant: removed in an earlier run (evicted with their
   * segment, or before they were ever written), lost in a crash, or unreadable. A tenant's stream
   * counts them as missed: it may have missed them, and an over-count is safer than silence.
   */
  const unplaced = new SeqRanges();

  function liveOf(segment: number, delta: number): void {
    segmentLive.set(segment, (segmentLive.get(segment) ?? 0) + delta);
  }

  /**
   * Per segment, the tenants whose removed lines it still holds (a segment is deleted only when
   * none of its lines is live): a purge rewrites those too, so nothing of the tenant stays on disk.
   */
  const removedLinesOf = new Map<number, Set<string>>();
  function leftBehind(segment: number, tenant: string | null): void {
    if (tenant === null) return;
    const tenants = removedLinesOf.get(segment);
    if (tenants) tenants.add(tenant);
    else removedLinesOf.set(segment, new Set([tenant]));
  }

  /** Removes a row from everything in memory; its bytes leave the disk with its segment. */
  function removeRow(row: LogRow): boolean {
    if (!index.remove(row)) return false;
    if (row.written) {
      liveOf(row.segment, -1);
      leftBehind(row.segment, row.tenant);
    } else if (row.line) {
      pendingBytes -= row.line.length;
      row.line = undefined;
    }
    return true;
  }

  function enforceCounts(tenant: string | null): void {
    while (index.size > limits.maxEntries) {
      // The tenant rule below, for the whole log: wrong tokens sent to many tenants' URLs, or to
      // /scim/v2 (no tenant, so no tenant cap), pushed out every tenant's real traffic.
      const refusedFirst = index.refusedSize * 2 > limits.maxEntries;
      const oldest = refusedFirst ? index.oldestRefused() : index.oldest();
      if (!oldest || !removeRow(oldest)) break;
      counters.evicted++;
      if (refusedFirst) globalRefusedFloor = Math.max(globalRefusedFloor, oldest.seq);
      else globalFloor = Math.max(globalFloor, oldest.seq);
    }
    const own = tenant === null ? undefined : tenantLimits.get(tenant);
    if (tenant !== null && own) {
      while (index.tenantSize(tenant) > own.maxEntries) {
        // Requests made with no credential the server took (refusedForCredential) take at most
        // half the cap: a client with no valid token, which anyone who knows the tenant's URL is,
        // pushed out every entry of the IdP's real traffic. Under half, they age with the rest, so
        // an IdP sending a bad token still shows why it fails.
        const refusedFirst = index.refusedSizeOfTenant(tenant) * 2 > own.maxEntries;
        const oldest = refusedFirst ? index.oldestRefusedOfTenant(tenant) : index.oldestOfTenant(tenant);
        if (!oldest || !removeRow(oldest)) break;
        counters.evicted++;
        const floors = refusedFirst ? refusedFloors : tenantFloors;
        if (oldest.seq > (floors.get(tenant) ?? 0)) floors.set(tenant, oldest.seq);
      }
    }
  }

  // --- start-up: rebuild the index from the segments -------------------------------------------
  const files = await SegmentFiles.open(dir, { segmentBytes: limits.segmentBytes, io: options.io }, (head, loc) => {
    let summary: Summary;
    try {
      const parsed = RequestLogSummary.safeParse(JSON.parse(head));
      if (!parsed.success || parsed.data.seq <= lastSeq) throw new Error('not an entry');
      summary = parsed.data;
    } catch {
      counters.corrupt++;
      return;
    }
    unplaced.add(lastSeq + 1, summary.seq - 1);
    lastSeq = summary.seq;
    // Removed by a cap before (its tenant's, or the log's): not brought back by a cap raised since,
    // nor counted again by the log's cap, which would then evict other entries than the run did.
    const refused = refusedForCredential(summary);
    const tenant = summary.tenant_id;
    const floor = Math.max(
      globalFloor,
      refused ? globalRefusedFloor : 0,
      tenant === null ? 0 : (tenantFloors.get(tenant) ?? 0),
      tenant !== null && refused ? (refusedFloors.get(tenant) ?? 0) : 0,
    );
    if (summary.seq <= floor) {
      leftBehind(loc.segment, tenant);
      if (tenant !== null) index.noteRemoved(tenant, summary.seq);
      return;
    }
    const row = rowFromSummary(summary, interner);
    row.segment = loc.segment;
    row.offset = loc.offset;
    row.length = loc.length;
    index.append(row);
    liveOf(loc.segment, 1);
    // The same rule as at run time, applied in the same order, evicts the same entries.
    enforceCounts(row.tenant);
  });
  if (counters.corrupt > 0) log.warn(`request log: skipped ${counters.corrupt} unreadable line(s) in ${dir}`);

  // After a crash, seqs up to the reservation may have been streamed: continue above them.
  let nextSeq = Math.max(lastSeq, meta.reserved_seq) + 1;
  let reserved = nextSeq - 1 + SEQ_BLOCK;
  let reserving = false;
  // Lines after the newest on disk: lost in a crash, or removed before they were written.
  unplaced.add(lastSeq + 1, nextSeq - 1);
  await writeLogMeta(dir, snapshotMeta());

  function snapshotMeta(): LogMeta {
    return {
      version: 1,
      reserved_seq: reserved,
      tenant_limits: Object.fromEntries(tenantLimits),
      tenant_floors: Object.fromEntries(tenantFloors),
      tenant_refused_floors: Object.fromEntries(refusedFloors),
      global_floor: globalFloor,
      global_refused_floor: globalRefusedFloor,
    };
  }

  /** The save waiting in metaQueue, not yet begun: it takes its copy when it begins. */
  let metaSaveWaiting: Promise<void> | undefined;

  /**
   * Writes meta.json as it is when the write begins. A call while a save waits joins it, since that
   * save will hold its change too: one write per tenant at every start (its log cap) made a start
   * with 4,000 tenants write 700 MB, the file growing with each.
   */
  function saveMeta(): Promise<void> {
    metaSaveWaiting ??= metaQueue
      .run(() => {
        metaSaveWaiting = undefined;
        return writeLogMeta(dir, snapshotMeta());
      })
      .catch((error: unknown) => reportError('meta.json', error));
    return metaSaveWaiting;
  }

  function reserveAhead(): void {
    if (reserving || nextSeq < reserved - SEQ_BLOCK / 2) return;
    reserving = true;
    reserved += SEQ_BLOCK;
    void saveMeta().finally(() => (reserving = false));
  }

  function reportError(what: string, error: unknown): void {
    counters.writeErrors++;
    lastError = `${what}: ${error instanceof Error ? error.message : String(error)}`;
    // Once per failure streak: a full disk must not flood the console at 1,000 requests/s.
    if (!failing) log.error(`request log: writing failed (${lastError}); buffering, oldest entries will be dropped`);
    failing = true;
  }

  // --- disk jobs --------------------------------------------------------------------------------

  /** Deletes sealed segments with no live entry left. */
  async function collectSegments(): Promise<void> {
    for (const info of [...files.segments]) {
      if (info.id !== files.activeId && (segmentLive.get(info.id) ?? 0) <= 0) {
        await files.remove(info.id);
        segmentLive.delete(info.id);
        removedLinesOf.delete(info.id);
      }
    }
  }

  /** The byte cap: whole oldest segments go, with their entries. */
  async function enforceBytes(incoming: number): Promise<void> {
    while (files.segments.length > 0 && files.totalBytes + incoming > limits.maxBytes) {
      const oldest = files.segments[0]!.id;
      for (let row = index.oldest(); row && row.written && row.segment <= oldest; row = index.oldest()) {
        removeRow(row);
        counters.evicted++;
      }
      await files.remove(oldest);
      segmentLive.delete(oldest);
      removedLinesOf.delete(oldest);
    }
  }

  function takeBatch(): LogRow[] {
    const batch: LogRow[] = [];
    for (let i = pendingHead; i < pending.length; i++) {
      const row = pending[i]!;
      if (!row.removed && row.line) batch.push(row);
    }
    pending = [];
    pendingHead = 0;
    return batch;
  }

  async function writeBatch(): Promise<void> {
    const batch = takeBatch();
    if (batch.length === 0) return;
    let bytes = 0;
    for (const row of batch) bytes += row.line?.length ?? 0;
    // A batch larger than the whole cap (tiny caps in tests) keeps only its newest part.
    while (batch.length > 0 && bytes > limits.maxBytes) {
      const row = batch.shift()!;
      bytes -= row.line?.length ?? 0;
      removeRow(row);
      counters.evicted++;
    }
    const written = batch.filter((row) => row.line);
    const place = (locs: readonly Loc[]): void => {
      locs.forEach((loc, i) => {
        const row = written[i] as LogRow;
        row.segment = loc.segment;
        row.offset = loc.offset;
        row.length = loc.length;
        if (!row.removed) {
          pendingBytes -= row.line?.length ?? 0;
          liveOf(loc.segment, 1);
        } else {
          // Removed while its write was under way: its line is on disk all the same.
          leftBehind(loc.segment, row.tenant);
        }
        row.line = undefined;
      });
    };
    try {
      await enforceBytes(bytes);
      place(await files.append(written.map((row) => row.line as Buffer)));
      await collectSegments();
      if (failing) log.info('request log: writing works again');
      failing = false;
    } catch (error) {
      if (error instanceof AppendError) place(error.written);
      reportError('segment write', error);
      // Back to the front of the buffer; the bound below decides what survives.
      pending = [...written.filter((row) => !row.removed && !row.written), ...pending.slice(pendingHead)];
      pendingHead = 0;
      enforceBuffer();
      timer.poke(false);
    }
  }

  function enforceBuffer(): void {
    while (pendingBytes > limits.maxBufferedBytes && pendingHead < pending.length) {
      const row = pending[pendingHead++]!;
      if (removeRow(row)) counters.dropped++;
    }
    if (pendingHead > 1024 && pendingHead * 2 > pending.length) {
      pending = pending.slice(pendingHead);
      pendingHead = 0;
    }
  }

  function flush(): Promise<void> {
    return disk.run(writeBatch);
  }

  /** Deleted tenants whose lines wait for the one rewrite that removes them all, with their rows. */
  let purgeWaiting: { tenants: Set<string>; rows: LogRow[]; done: Promise<void> } | undefined;

  /**
   * Removes a purged tenant's lines from disk: the segments that hold any are rewritten with their
   * live lines only. Tenants deleted while a rewrite waits join it: ten deletes rewrote a 100 MB
   * log ten times, one after another, the last answered after 32 s. Queued behind any in-flight
   * write, so rows being written now have their place on disk.
   */
  function purgeOnDisk(tenantId: string, rows: readonly LogRow[]): Promise<void> {
    if (!purgeWaiting) {
      const batch = { tenants: new Set<string>(), rows: [] as LogRow[], done: Promise.resolve() };
      batch.done = disk.run(async () => {
        purgeWaiting = undefined;
        await rewriteWithout(batch.tenants, batch.rows);
      });
      purgeWaiting = batch;
    }
    purgeWaiting.tenants.add(tenantId);
    for (const row of rows) purgeWaiting.rows.push(row);
    return purgeWaiting.done;
  }

  async function rewriteWithout(tenants: ReadonlySet<string>, rows: readonly LogRow[]): Promise<void> {
    const touched = new Set(rows.filter((row) => row.written).map((row) => row.segment));
    for (const [segment, holders] of removedLinesOf) {
      for (const tenant of tenants) if (holders.has(tenant)) touched.add(segment);
    }
    if (touched.size === 0) return;
    const keepBySegment = new Map<number, LogRow[]>();
    for (const row of index.newestFirst()) {
      if (touched.has(row.segment)) {
        const list = keepBySegment.get(row.segment) ?? [];
        list.push(row);
        keepBySegment.set(row.segment, list);
      }
    }
    for (const segment of touched) {
      const keep = (keepBySegment.get(segment) ?? []).reverse();
      // The new places must be known as soon as the rewritten file replaces the old one.
      await files.rewrite(segment, keep, (locs) =>
        keep.forEach((row, i) => {
          const loc = locs[i];
          if (loc) {
            row.offset = loc.offset;
            row.length = loc.length;
          }
        }),
      );
      if (keep.length === 0) segmentLive.delete(segment);
      // Rewritten with its live lines only: no removed line of anyone is left in it.
      removedLinesOf.delete(segment);
    }
  }

  const timer = new FlushTimer(limits.flushIntervalMs, () => {
    void flush();
  });

  /** See FeedSource.missedOfTenant; an upper bound where the record is incomplete (`unplaced`). */
  function missedOfTenant(tenant: string, after: number, upTo: number): number {
    const removed = index.removedOfTenant(tenant, after, upTo);
    let missed = removed.count + unplaced.countIn(after, upTo);
    // Below the tombstones' horizon every seq counts, except those `unplaced` has counted already.
    const forgottenTo = Math.min(upTo, removed.knownFrom - 1);
    if (forgottenTo > after) missed += forgottenTo - after - unplaced.countIn(after, forgottenTo);
    return missed;
  }

  const feed = new Feed(
    {
      firstAfter: (seq, tenant) => index.firstAfter(seq, tenant),
      lastSeq: () => nextSeq - 1,
      missedOfTenant,
    },
    log,
  );

  // Caps read from meta.json may be lower than what was on disk: enforce them, then tidy.
  await enforceBytes(0);
  await collectSegments();

  // --- reads --------------------------------------------------------------------------------------

  async function readLine(row: LogRow): Promise<Buffer | undefined> {
    // Twice at most: a purge may rewrite the segment between reading the row's place and the file.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (row.removed) return undefined;
      if (row.line) return row.line;
      const line = await files.read({ segment: row.segment, offset: row.offset, length: row.length });
      if (line && lineIsFor(line, 0, row.seq)) return line;
    }
    return undefined;
  }

  function parseDetail(row: LogRow, line: Buffer): Entry | undefined {
    const text = line.toString('utf8');
    const tab = text.indexOf('\t');
    try {
      const detail: unknown = JSON.parse(text.slice(tab + 1));
      const parsed = RequestLogEntry.safeParse({ ...(detail as object), ...row.toSummary() });
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Rows among `rows` (newest first) whose stored line contains the needle. */
  async function matchLines(rows: LogRow[], needle: TextNeedle): Promise<Set<LogRow>> {
    const found = new Set<LogRow>();
    let i = 0;
    while (i < rows.length) {
      const first = rows[i]!;
      if (first.line) {
        if (lineMatches(first.line, 0, first.line.length, needle)) found.add(first);
        i++;
        continue;
      }
      // A run of rows from one segment, read as one span (rows are newest first: offsets fall).
      let j = i + 1;
      let low = first.offset;
      const high = first.offset + first.length;
      while (j < rows.length) {
        const row = rows[j]!;
        if (row.line || row.segment !== first.segment || row.offset > low || high - row.offset > SEARCH_SPAN) break;
        low = row.offset;
        j++;
      }
      const span = await files.readSpan(first.segment, low, high - low);
      for (let k = i; k < j; k++) {
        const row = rows[k]!;
        const start = row.offset - low;
        if (span && lineIsFor(span, start, row.seq)) {
          if (lineMatches(span, start, start + row.length, needle)) found.add(row);
        } else {
          const line = await readLine(row);
          if (line && lineMatches(line, 0, line.length, needle)) found.add(row);
        }
      }
      i = j;
    }
    return found;
  }

  async function list(query: RequestLogListQuery): Promise<Page<Summary>> {
    const matches = structuredMatcher({ ...query, since: sinceMs(query.since), until: toMs(query.until) });
    const candidates: LogRow[] = [];
    const afterSeq = query.after_seq ?? -1;
    for (const row of index.newestFirst(query.tenant_id)) {
      if (row.seq <= afterSeq) break; // newest first: a poll for what is new reads only that
      if (matches(row)) candidates.push(row);
    }
    let hits = candidates;
    const needle = query.q?.trim().toLowerCase();
    if (needle) {
      // Each row's own text matched once: a query is decoded to be searched.
      const fromIndex = new Set(candidates.filter((row) => indexedTextMatch(row, needle)));
      const fromLines = await matchLines(
        candidates.filter((row) => !fromIndex.has(row)),
        textNeedle(needle),
      );
      hits = candidates.filter((row) => !row.removed && (fromIndex.has(row) || fromLines.has(row)));
    }
    const start = (query.page - 1) * query.per_page;
    return {
      items: hits.slice(start, start + query.per_page).map((row) => row.toSummary()),
      total: hits.length,
      page: query.page,
      per_page: query.per_page,
    };
  }

  // --- the service --------------------------------------------------------------------------------

  return {
    record(input) {
      if (closed) {
        counters.dropped++;
        return;
      }
      if (input.anonymous && !takeAnonymous()) {
        counters.anonymousDropped++;
        return;
      }
      try {
        const seq = nextSeq++;
        const bodyLimit = input.anonymous
          ? Math.min(limits.anonymousBodyBytes, limits.bodyLimitBytes)
          : limits.bodyLimitBytes;
        const { row, line } = buildEntry(input, seq, clock.now(), bodyLimit, interner);
        row.line = line;
        index.append(row);
        pending.push(row);
        pendingBytes += line.length;
        enforceCounts(row.tenant);
        enforceBuffer();
        reserveAhead();
        feed.notify();
        timer.poke(pendingBytes >= limits.flushBytes);
      } catch (error) {
        // A bug in redaction or an absurd input must cost the log an entry, not the request.
        counters.dropped++;
        log.error('request log: could not record an entry', error);
      }
    },

    list,

    async get(id) {
      // An entry has one id, as it was given: `01` names none (it read entry 1).
      if (!/^[1-9]\d{0,14}$/.test(id)) return undefined;
      const row = index.get(Number(id));
      if (!row) return undefined;
      const line = await readLine(row);
      return line ? parseDetail(row, line) : undefined;
    },

    async seqsOf(tenantId, requestIds) {
      const seqs: Record<string, number> = {};
      for (const id of requestIds) {
        const row = typeof id === 'string' ? index.byRequest(id) : undefined;
        if (row && row.tenant === tenantId) seqs[id] = row.seq;
      }
      return seqs;
    },

    subscribe({ afterSeq, filter }, listener) {
      return feed.subscribe(afterSeq, listener, filter);
    },

    setTenantLimits(tenantId, tenantLimit) {
      // A cap at or over the log's own is no cap of the tenant's: not kept, so meta.json holds only
      // the tenants that set a smaller one. Set as it was (every tenant at every start), nothing to do.
      const maxEntries = tenantLimit ? Math.max(1, Math.floor(tenantLimit.maxEntries)) : Infinity;
      const own = maxEntries < limits.maxEntries ? maxEntries : undefined;
      if (own === tenantLimits.get(tenantId)?.maxEntries) return;
      if (own === undefined) tenantLimits.delete(tenantId);
      else tenantLimits.set(tenantId, { maxEntries: own });
      enforceCounts(tenantId);
      feed.notify();
      void saveMeta();
      void disk.run(collectSegments).catch((error: unknown) => reportError('segment delete', error));
    },

    async purgeTenant(tenantId) {
      const rows = index.rowsOfTenant(tenantId);
      for (const row of rows) if (removeRow(row)) counters.purged++;
      tenantLimits.delete(tenantId);
      tenantFloors.delete(tenantId);
      refusedFloors.delete(tenantId);
      feed.tenantDeleted(tenantId);
      void saveMeta();
      await purgeOnDisk(tenantId, rows);
    },

    async stats() {
      return {
        entries: index.size,
        bytes: files.totalBytes + pendingBytes,
        segments: files.segments.length,
        buffered: Math.max(0, pending.length - pendingHead),
        last_seq: nextSeq - 1,
        dropped: counters.dropped,
        anonymous_dropped: counters.anonymousDropped,
        evicted: counters.evicted,
        purged: counters.purged,
        write_errors: counters.writeErrors,
        last_error: lastError,
        corrupt_lines: counters.corrupt,
        subscribers: feed.size,
      };
    },

    flush,

    async close() {
      if (closed) return;
      closed = true;
      timer.stop();
      feed.close();
      await flush();
      await disk.idle();
      reserved = nextSeq - 1;
      await saveMeta();
      await files.close().catch((error: unknown) => reportError('close', error));
      // Rows a cap or a purge removed while they waited were to go anyway: not lost.
      let unwritten = 0;
      for (let i = pendingHead; i < pending.length; i++) if (!pending[i]!.removed) unwritten++;
      if (unwritten > 0) {
        throw NotWrittenOnCloseError.lost(unwritten, 'request log entry', 'request log entries', lastError);
      }
    },
  };
}
