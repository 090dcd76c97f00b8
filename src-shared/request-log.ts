import { z } from 'zod';
import { MAX_PER_PAGE, queryInt } from './paging';

/**
 * The request log as the admin API shows it (DESIGN.md §3 "request logs"). Everything here is
 * already redacted: the server never holds the secrets, so no view of the log can leak them.
 */

export const RequestSource = z.enum(['idp', 'console', 'admin']);
export type RequestSource = z.infer<typeof RequestSource>;

/** The marker that replaces every redacted value, in headers, query strings and bodies. */
export const REDACTED = '[redacted]';

export const RequestLogToken = z.object({ id: z.string(), name: z.string() });
export type RequestLogToken = z.infer<typeof RequestLogToken>;

export const MAX_REQUEST_ID_LENGTH = 64;

/** A request id as the log's summary and the history's records accept it back. */
export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_REQUEST_ID_LENGTH;
}

/** One list row (and one live-feed entry): what the in-memory index holds, no bodies. */
export const RequestLogSummary = z.object({
  /** `seq` in decimal: ids are never reused, across restarts too. */
  id: z.string(),
  seq: z.number().int().min(1),
  time: z.iso.datetime(),
  method: z.string(),
  path: z.string(),
  /** The query string without `?`, token-like parameters redacted; '' when there was none. */
  query: z.string(),
  tenant_id: z.string().nullable(),
  token: RequestLogToken.nullable(),
  source: RequestSource,
  status: z.number().int(),
  duration_ms: z.number().min(0),
  /** Compatibility flags that fired while serving the request (DESIGN.md §3). */
  flags: z.array(z.string()),
  /** True when the request ended in an error worth a detail (see the full entry). */
  has_error: z.boolean(),
  /**
   * The id the server gave the request; a resource history version names the request that made it
   * by this id. Absent on entries written before ids existed.
   */
  request_id: z.string().min(1).max(MAX_REQUEST_ID_LENGTH).optional(),
});
export type RequestLogSummary = z.infer<typeof RequestLogSummary>;

export const HeaderValue = z.union([z.string(), z.array(z.string())]);
export const RequestLogHeaders = z.record(z.string(), HeaderValue);
export type RequestLogHeaders = z.infer<typeof RequestLogHeaders>;

/**
 * A captured body. JSON bodies are kept as JSON; text that is not JSON as a string. Past the limit
 * (64 KiB serialized by default) the body becomes the first bytes of its serialization as a string,
 * with `truncated: true`, since a cut JSON document is no longer JSON.
 */
export const CapturedBody = z.object({
  body: z.unknown(),
  truncated: z.boolean(),
  /** Size of the body as received/sent, serialized, in bytes (before truncation). */
  bytes: z.number().int().min(0),
});
export type CapturedBody = z.infer<typeof CapturedBody>;

export const CapturedMessage = z.object({ headers: RequestLogHeaders }).extend(CapturedBody.shape);
export type CapturedMessage = z.infer<typeof CapturedMessage>;

export const RequestLogError = z.object({
  message: z.string(),
  code: z.string().optional(),
  /**
   * Why the server failed (a 5xx whose client was told only that it did): the error inside it, such
   * as the journal's `ENOSPC`. For the log's reader, the server's owner; never sent to the client.
   */
  cause: z.string().optional(),
});
export type RequestLogError = z.infer<typeof RequestLogError>;

/**
 * Something the request's body named that the server left alone, and why: an attribute no schema
 * of the tenant defines (RFC 7644 §3.3 lets a server ignore it), a read-only value, a `remove`
 * that matched nothing. Without it a dropped custom attribute looks like a success.
 */
export const IgnoredTarget = z.object({ target: z.string(), reason: z.string() });
export type IgnoredTarget = z.infer<typeof IgnoredTarget>;

/** How many ignored targets one entry lists; the rest are counted in a last item. */
export const MAX_IGNORED_LISTED = 50;

/** `GET /request-logs/{id}`: the summary plus both messages. */
export const RequestLogEntry = RequestLogSummary.extend({
  request: CapturedMessage,
  response: CapturedMessage,
  error: RequestLogError.nullable(),
  /** Absent when nothing was ignored, and on entries written before it was recorded. */
  ignored: z.array(IgnoredTarget).optional(),
});
export type RequestLogEntry = z.infer<typeof RequestLogEntry>;

/**
 * `status` filter: an exact code (`404`) or a class (`4xx`, `4XX`). Digits only, as every admin query
 * number (`1e2` is not 100); the class's case is in the pattern, not a flag, so the OpenAPI document
 * says what the server takes.
 */
const notAStatus = (issue: { input?: unknown }): string =>
  `must be a status code (404) or a class (4xx), not ${JSON.stringify(issue.input)}`;
export const StatusFilter = z.union([queryInt(100, 599), z.string().regex(/^[1-5][xX][xX]$/, { error: notAStatus })], {
  error: notAStatus,
});

/** A yes/no filter: `true`/`false` in a URL, a boolean over IPC. */
const YesNo = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')], {
  error: (issue) => `must be true or false, not ${JSON.stringify(issue.input)}`,
});

/** ISO 8601 with `Z` or an offset: a time without one would be read in whichever zone the server is in. */
const Instant = z.iso.datetime({
  offset: true,
  error: (issue) => {
    const given = JSON.stringify(issue.input);
    // `+01:00` typed into a URL unencoded arrives as ` 01:00`: a query reads `+` as a space.
    const offset = typeof issue.input === 'string' ? /T[\d:.]+ (\d{2}:?\d{2})$/.exec(issue.input)?.[1] : undefined;
    const hint = offset ? ` (a + in a URL query stands for a space: write the offset as %2B${offset})` : '';
    return `must be an ISO 8601 date-time with Z or an offset, like 2026-01-31T09:00:00Z, not ${given}${hint}`;
  },
});

/** The digits of an ISO 8601 time's fraction past the millisecond, which Date.parse drops. */
export function subMillisecondDigits(instant: string): string {
  return (/\.\d{3}(\d+)/.exec(instant)?.[1] ?? '').replace(/0+$/, '');
}

/** Orders two valid ISO 8601 times to the last digit given, not only to the millisecond. */
function compareInstants(a: string, b: string): number {
  const byMs = Date.parse(a) - Date.parse(b);
  if (byMs !== 0) return byMs;
  const [x, y] = [subMillisecondDigits(a), subMillisecondDigits(b)];
  const width = Math.max(x.length, y.length);
  return x.padEnd(width, '0').localeCompare(y.padEnd(width, '0'));
}

/** The filters that a single entry's summary can answer, so the live stream takes them too. */
const entryFilters = {
  // Empty is refused, as on /scim-tokens: it matched no entry and looked like "no such traffic".
  tenant_id: z.string().min(1).optional(),
  /** Only entries with (or without) an error: a 4xx/5xx answer, a Bulk with failed operations, a cut export. */
  has_error: YesNo.optional(),
  source: RequestSource.optional(),
  token_id: z.string().min(1).optional(),
  method: z.string().min(1).optional(),
  status: StatusFilter.optional(),
  /** Substring of the path. */
  path: z.string().optional(),
};

/** What `GET /request-logs/stream` narrows by; free text and the time window are the list's alone. */
export const RequestLogStreamFilter = z.object(entryFilters);
export type RequestLogStreamFilter = z.infer<typeof RequestLogStreamFilter>;

export const RequestLogQuery = z
  .object({
    ...entryFilters,
    /** Free text over path, query, token name, compatibility flags, headers and bodies (case-insensitive). */
    q: z.string().max(200).optional(),
    /** ISO 8601 date-time, `Z` or an offset; inclusive. */
    since: Instant.optional(),
    until: Instant.optional(),
    /**
     * Only entries numbered below this. Pages count from the newest entry, so traffic and removals
     * (a tenant's cap) shift them: for each next page, set this to the oldest seq of the page read,
     * and keep `page` at 1. Set to `after_seq` + 1 it is the empty end of such paging.
     */
    before_seq: queryInt(1).optional(),
    /**
     * Only entries numbered above this: to poll for what came since the newest entry seen, pass its
     * seq. An entry is numbered when its request ends and timed when it starts, so a poll by
     * `since` missed a slow request that ended after a quicker one it had seen.
     */
    after_seq: queryInt(0).optional(),
    page: queryInt(1).default(1),
    per_page: queryInt(1, MAX_PER_PAGE).default(50),
  })
  .superRefine((query, ctx) => {
    // A window that ends before it starts matches nothing: say so, rather than an empty page.
    if (query.since !== undefined && query.until !== undefined && compareInstants(query.until, query.since) < 0) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: `must not be before since (${query.since})` });
    }
    // Only a window that ends before it starts: one just empty (`after_seq` + 1) is where keyset
    // paging within a poll's window ends, with an empty page.
    if (query.after_seq !== undefined && query.before_seq !== undefined && query.before_seq <= query.after_seq) {
      ctx.addIssue({
        code: 'custom',
        path: ['before_seq'],
        message: `must be above after_seq (${query.after_seq}): no entry is both below it and above after_seq`,
      });
    }
  });
export type RequestLogQuery = z.infer<typeof RequestLogQuery>;

/**
 * The live feed. `gap` says how many entries this subscriber will never see (evicted by the caps,
 * dropped while the disk was slow, or skipped while the subscriber was too slow); `seq` is the last
 * sequence number the gap covers, so a stream can use it as its event id and resume after it. A
 * feed that follows one tenant counts only that tenant's entries in its gaps.
 */
export const RequestLogEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('entry'), entry: RequestLogSummary }),
  z.object({ type: z.literal('gap'), missed: z.number().int().min(1), seq: z.number().int().min(0) }),
  // The tenant a feed follows was deleted; the feed goes on (an IdP may still call its URL).
  z.object({ type: z.literal('tenant_deleted'), tenant_id: z.string() }),
]);
export type RequestLogEvent = z.infer<typeof RequestLogEvent>;
