import {
  isRequestId,
  MAX_IGNORED_LISTED,
  REDACTED,
  type RequestLogSummary,
  RequestSource as RequestSourceSchema,
  type IgnoredTarget,
  type RequestLogError,
  type RequestLogToken,
  type RequestSource,
} from '@shared/request-log';
import {
  MAX_SECRET_UNITS,
  redactBody,
  redactHeaders,
  redactPath,
  redactQuery,
  scrubCredentialValues,
  scrubJsonSecrets,
  scrubSecrets,
  SecretSet,
  withoutCutSecret,
  type RawHeaders,
  type RedactedBody,
  type RawQuery,
} from './redact';
import { Interner as SharedInterner } from '../interner';

/** A request or a response as captured. */
export interface CapturedMessage {
  headers?: RawHeaders;
  body?: unknown;
  /**
   * True when the request thread knows `body` is text of a JSON object or array (it parsed it, or
   * wrote it with JSON.stringify): the log does not parse it again to keep it as it came.
   */
  bodyIsJson?: boolean;
  /**
   * The whole body's size in bytes, where `body` is only its head (a body refused for its size) or
   * nothing (a streamed export, not kept): the log keeps how much was sent instead of what it was
   * given, and marks a head as truncated. Ignored when not above what `body` holds.
   */
  bytes?: number;
}

/** What the HTTP capture middleware hands to `record`, once per request, after the response. */
export interface RequestLogInput {
  /** The id the capture middleware gave the request (see http/request-ids.ts); the history names it. */
  request_id?: string;
  method: string;
  path: string;
  /** The raw query string (with or without `?`) or the parsed record. */
  query?: RawQuery;
  tenant_id: string | null;
  /**
   * `tenant_id` was read from the request's path, with no credential naming that tenant: the
   * client's text, scrubbed as its path is. Otherwise it is the server's own and kept as it is.
   */
  tenant_in_path?: boolean;
  token: RequestLogToken | null;
  source: RequestSource;
  status: number;
  duration_ms: number;
  request: CapturedMessage;
  response: CapturedMessage;
  /** Compatibility flags that fired (DESIGN.md §3). */
  flags?: readonly string[];
  /** What the bodies named but the server left alone (at most MAX_IGNORED_LISTED + 1 items). */
  ignored?: readonly IgnoredTarget[];
  error?: RequestLogError | null;
  /** Epoch milliseconds, from the same clock the server uses. */
  started_at: number;
  /**
   * The request carried no `Authorization` header: what a web page can have its visitor's browser
   * send to 127.0.0.1 (an <img>, a no-cors fetch, a form), which cannot carry one. The log takes
   * such requests at a bounded rate and keeps less of each (see RequestLogLimits). One with a wrong
   * or unknown credential is an IdP or a script to be debugged, and logged whole.
   */
  anonymous?: boolean;
}

/**
 * One entry in the in-memory index: the summary fields and where the full line is. Strings that
 * repeat (tenant ids, methods, token names, flag sets) are interned, so 100,000 rows cost little
 * more than their paths. While the entry waits for the disk, `line` holds it.
 */
export class LogRow {
  removed = false;
  /** Set once written; until then the row is pending and `line` holds the bytes. */
  segment = -1;
  offset = 0;
  length = 0;
  line: Buffer | undefined;

  constructor(
    readonly seq: number,
    readonly timeMs: number,
    readonly tenant: string | null,
    readonly method: string,
    readonly path: string,
    readonly query: string,
    readonly status: number,
    readonly durationMs: number,
    readonly token: RequestLogToken | null,
    readonly source: RequestSource,
    readonly flags: readonly string[],
    readonly hasError: boolean,
    readonly requestId: string | undefined,
  ) {}

  get written(): boolean {
    return this.segment >= 0;
  }

  toSummary(): RequestLogSummary {
    return {
      id: String(this.seq),
      seq: this.seq,
      time: new Date(this.timeMs).toISOString(),
      method: this.method,
      path: this.path,
      query: this.query,
      tenant_id: this.tenant,
      token: this.token,
      source: this.source,
      status: this.status,
      duration_ms: this.durationMs,
      flags: [...this.flags],
      has_error: this.hasError,
      ...(this.requestId === undefined ? {} : { request_id: this.requestId }),
    };
  }
}

/** How much of an anonymous request's path and query is kept (a URL can carry 60 KB). */
export const ANONYMOUS_TEXT_CHARS = 2048;

function cutText(text: string): string {
  return text.length > ANONYMOUS_TEXT_CHARS ? `${text.slice(0, ANONYMOUS_TEXT_CHARS)}…` : text;
}

/** A body kept in part, with no secret's first characters left where it was cut. */
function cutClean(body: RedactedBody, secrets: SecretSet): RedactedBody {
  if (!body.truncated || typeof body.body !== 'string') return body;
  const text = withoutCutSecret(body.body, secrets);
  return text === body.body ? body : { ...body, body: text, json: JSON.stringify(text) };
}

const MAX_INTERNED = 10_000;
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');

/** The shared interner, plus the log's token objects; bounded, since methods and paths come from clients. */
export class Interner extends SharedInterner {
  private readonly tokens = new Map<string, RequestLogToken>();

  token(token: RequestLogToken | null): RequestLogToken | null {
    if (!token) return null;
    const key = `${token.id}\u0000${token.name}`;
    const known = this.tokens.get(key);
    if (known) return known;
    const copy = Object.freeze({ id: token.id, name: token.name });
    if (this.tokens.size < MAX_INTERNED) this.tokens.set(key, copy);
    return copy;
  }
}

export interface BuiltEntry {
  row: LogRow;
  line: Buffer;
}

function finiteOr(value: unknown, fallback: number): number {
  const number = Number(value);
  return Number.isFinite(number) ? number : fallback;
}

/**
 * Redacts and serializes one request. The line is `<summary JSON>\t<detail JSON>\n`; the summary is
 * what start-up re-indexes, the detail is read back by offset. Secrets found anywhere are scrubbed
 * from the whole line before anything is kept (see `redact.ts`).
 */
export function buildEntry(
  input: RequestLogInput,
  seq: number,
  nowMs: number,
  bodyLimit: number,
  interner: Interner,
): BuiltEntry {
  const secrets = new SecretSet();
  const requestHeaders = redactHeaders(input.request?.headers, secrets);
  const responseHeaders = redactHeaders(input.response?.headers, secrets);
  const query = redactQuery(input.query, secrets);
  const path = redactPath(String(input.path), secrets);
  let requestBody = keptOf(input.request, secrets, bodyLimit);
  let responseBody = keptOf(input.response, secrets, bodyLimit);
  let error: RequestLogError | null = input.error
    ? {
        message: String(input.error.message),
        code: input.error.code,
        ...(input.error.cause === undefined ? {} : { cause: String(input.error.cause) }),
      }
    : null;
  // Cut once every secret is known: the second pass finds whole secrets, not one cut in two.
  [requestBody, responseBody] = [cutClean(requestBody, secrets), cutClean(responseBody, secrets)];
  if (secrets.overflowed) {
    // Too many secrets to scrub from the rest of the entry: keep none of what could hold them.
    [requestBody, responseBody] = [withheld(requestBody), withheld(responseBody)];
    if (error) error = { ...error, message: WITHHELD, ...(error.cause === undefined ? {} : { cause: WITHHELD }) };
  }
  // Only times that print as an xsd:dateTime the log can read back (years 1970-9999).
  const started = finiteOr(input.started_at, nowMs);
  const timeMs = started >= 0 && started < MAX_TIME ? started : nowMs;

  const summary: RequestLogSummary = {
    id: String(seq),
    seq,
    time: new Date(timeMs).toISOString(),
    method: String(input.method).toUpperCase(),
    path,
    query,
    tenant_id: input.tenant_id ?? null,
    token: input.token ? { id: String(input.token.id), name: String(input.token.name) } : null,
    source: RequestSourceSchema.safeParse(input.source).success ? input.source : 'idp',
    status: Math.trunc(finiteOr(input.status, 0)),
    duration_ms: Math.max(0, finiteOr(input.duration_ms, 0)),
    flags: (input.flags ?? []).map(String),
    has_error: error !== null,
    ...(isRequestId(input.request_id) ? { request_id: input.request_id } : {}),
  };
  // Only what the request and its answer carried is scrubbed of the secrets found: the rest of the
  // entry is the server's own (the time, the source, the ids, the token's name, a body's size), and
  // a secret that matched it broke it. A password "2026-12-07" matched inside the time, and one of
  // digits a body's `bytes`; neither parsed any more, and the entry, a successful create too, was lost.
  const scrubJson = (json: string) => scrubCredentialValues(scrubJsonSecrets(json, secrets));
  // The detail as JSON.stringify would write Pick<RequestLogEntry, 'request' | 'response' | 'error' | 'ignored'>,
  // with each body's serialization taken as redactBody made it instead of made again.
  const message = (headers: Record<string, string | string[]>, body: RedactedBody) =>
    `{"headers":${scrubJson(JSON.stringify(headers))},"body":${scrubJson(body.json)},"truncated":${body.truncated},"bytes":${body.bytes}}`;
  const ignored = (input.ignored ?? [])
    .slice(0, MAX_IGNORED_LISTED + 1)
    .map(({ target, reason }) => ({ target: String(target), reason: String(reason) }));
  const detail = `{"request":${message(requestHeaders, requestBody)},"response":${message(responseHeaders, responseBody)},"error":${scrubJson(JSON.stringify(error))}${ignored.length > 0 ? `,"ignored":${scrubJson(JSON.stringify(ignored))}` : ''}}`;
  // Of the summary, the path, the query and a tenant id read from the path of a refused request
  // (nothing says such a tenant exists: a token pasted there) are the client's text. Scrubbed
  // before it is indexed: a secret in any of them must not reach the list's rows. A tenant id a
  // credential vouched for is the server's: scrubbed because a password equalled it, the entry
  // left its tenant's list, stream, cap and purge.
  const scrub = (text: string) => scrubCredentialValues(scrubSecrets(text, secrets));
  let kept: RequestLogSummary = {
    ...summary,
    path: scrub(summary.path),
    query: scrub(summary.query),
    tenant_id:
      summary.tenant_id !== null && input.tenant_in_path === true ? scrub(summary.tenant_id) : summary.tenant_id,
  };
  // Cut once scrubbed: a cut secret is no longer recognised as one.
  if (input.anonymous && (kept.path.length > ANONYMOUS_TEXT_CHARS || kept.query.length > ANONYMOUS_TEXT_CHARS)) {
    kept = { ...kept, path: cutText(kept.path), query: cutText(kept.query) };
  }
  const line = `${JSON.stringify(kept)}\t${detail}\n`;

  return { row: rowFromSummary(kept, interner, timeMs), line: Buffer.from(line, 'utf8') };
}

/** A message's body as kept, with the whole body's size where only a part of it (or none) was given. */
function keptOf(message: CapturedMessage | undefined, secrets: SecretSet, bodyLimit: number): RedactedBody {
  const body = redactBody(message?.body, secrets, bodyLimit, message?.bodyIsJson === true);
  const whole = message?.bytes;
  if (typeof whole !== 'number' || !Number.isSafeInteger(whole) || whole < 0) return body;
  // The size as received wins over the kept text's: a BOM dropped, bad bytes shown as \xNN, only
  // the head of a body kept, or none of it (an encoded or unread body keeps its size alone).
  return { ...body, truncated: body.truncated || (body.bytes > 0 && whole > body.bytes), bytes: whole };
}

const WITHHELD = `${REDACTED}: the request holds more secret text than the log scrubs (${MAX_SECRET_UNITS} characters)`;

function withheld(body: RedactedBody): RedactedBody {
  return body.bytes === 0
    ? body
    : { body: WITHHELD, truncated: false, bytes: body.bytes, json: JSON.stringify(WITHHELD) };
}

/** A row from an entry's summary: when it is recorded, and rebuilt from a line's head at start-up. */
export function rowFromSummary(
  summary: RequestLogSummary,
  interner: Interner,
  timeMs = Date.parse(summary.time),
): LogRow {
  return new LogRow(
    summary.seq,
    timeMs,
    interner.string(summary.tenant_id),
    interner.string(summary.method),
    summary.path,
    summary.query,
    summary.status,
    summary.duration_ms,
    interner.token(summary.token),
    summary.source,
    interner.list(summary.flags),
    summary.has_error,
    summary.request_id,
  );
}
