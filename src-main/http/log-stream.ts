import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { AdminError } from '@shared/errors';
import { RequestLogQuery, RequestLogStreamFilter, type RequestLogEvent } from '@shared/request-log';
import { zodIssues } from '../services/admin-dispatch';
import type { FeedFilter, RequestLog } from '../services/request-log/index';
import { REFUSED_ADMIN_TOKEN } from './admin-auth';

const HEARTBEAT_MS = 15_000;
/** How long a shutdown waits for a stream's last bytes to be taken before it cuts the connection. */
const SHUTDOWN_FLUSH_MS = 1_000;
/** setTimeout's longest delay; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * Live streams open at once, all admin tokens together: each is fed every entry it matches, and 50
 * unfiltered ones doubled the SCIM answers' median time. Enough for every console tab and script
 * one person runs.
 */
export const MAX_LIVE_STREAMS = 32;

/**
 * `GET /api/v1/admin/request-logs/stream`: new log entries as Server-Sent Events, read with fetch
 * and the Authorization header (DESIGN.md §3: no credential in a URL). Each event's `id` is its
 * sequence number, so a client resumes with `Last-Event-ID` (or `?after=`) without losing or
 * repeating entries; a `gap` event says how many entries it will never see. The request log paces
 * the stream: it hands over the next event only once the last one was written to the socket.
 * The stream ends when the admin token that opened it expires (`tokenValidForMs`), with an
 * `expired` event: an expired token reads nothing else, and a stream is no way around that.
 */
export async function streamRequestLog(
  ctx: Context,
  requestLog: RequestLog,
  requireOwners: (filter: FeedFilter) => Promise<void>,
  open: Set<() => void>,
  tokenValidForMs = Infinity,
  /** Registers what ends this stream when its token is signed out; returns the unregistration. */
  onSignOut?: (stop: () => void) => () => void,
): Promise<void> {
  const header = ctx.get('Last-Event-ID');
  const after = ctx.query.after;
  if (Array.isArray(after)) {
    throw new AdminError('validation_failed', 'after may be given once.', [
      { loc: ['query', 'after'], msg: 'must be given once', type: 'list_type' },
    ]);
  }
  // Each is checked where it was given, though the header wins when both are.
  for (const [value, loc] of [
    [header, ['header', 'Last-Event-ID']],
    [after ?? '', ['query', 'after']],
  ] as const) {
    if (value !== '' && !/^\d{1,15}$/.test(value)) {
      throw new AdminError('validation_failed', `${loc[1]} must be a sequence number.`, [
        { loc: [...loc], msg: 'must be a non-negative integer', type: 'int_parsing' },
      ]);
    }
  }
  const resume = header || (after ?? '');
  const filter = streamFilterOf(ctx.query);
  await requireOwners(filter);
  if (open.size >= MAX_LIVE_STREAMS) {
    // RFC 9110 §15.6.4: a 503 may say when to come back, which a script's retry loop can follow
    // rather than ask again at once.
    ctx.set('Retry-After', '5');
    throw new AdminError(
      'unavailable',
      `${MAX_LIVE_STREAMS} live request-log streams are open already: close one (a console tab, a script) and try again.`,
    );
  }
  const out = new PassThrough();
  ctx.status = 200;
  ctx.type = 'text/event-stream; charset=utf-8';
  // Not stored either: the entries are user data (as every admin answer, see apiResponseHeaders).
  ctx.set('Cache-Control', 'no-store, no-transform');
  ctx.set('X-Accel-Buffering', 'no');
  // A stream's connection is not reused: when the stream ends (a shutdown), the socket goes too.
  ctx.set('Connection', 'close');
  ctx.body = out;
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);

  const write = (text: string): Promise<void> =>
    out.write(text) ? Promise.resolve() : new Promise((resolve) => out.once('drain', () => resolve()));
  out.write(': scimdesk request log\n\n');
  // The log itself narrows the feed: with tenant_id a gap counts only that tenant's entries.
  const unsubscribe = requestLog.subscribe(
    { ...(resume === '' ? {} : { afterSeq: Number(resume) }), filter },
    (event: RequestLogEvent) => {
      if (event.type === 'tenant_deleted') {
        return write(`event: tenant_deleted\ndata: ${JSON.stringify({ tenant_id: event.tenant_id })}\n\n`);
      }
      if (event.type === 'gap') {
        return write(`id: ${event.seq}\nevent: gap\ndata: ${JSON.stringify({ missed: event.missed })}\n\n`);
      }
      return write(`id: ${event.entry.seq}\nevent: entry\ndata: ${JSON.stringify(event.entry)}\n\n`);
    },
  );
  const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  let ended = false;
  // Set once `end` exists (a sign-out ends the stream through it); `end` may run before that.
  // eslint-disable-next-line prefer-const
  let forgetSignOut: (() => void) | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    open.delete(shutDown);
    forgetSignOut?.();
    clearInterval(heartbeat);
    clearTimeout(expiry);
    unsubscribe();
    out.end();
  };
  const expiresAt = Date.now() + tokenValidForMs;
  let expiry: NodeJS.Timeout | undefined;
  const expireWhenDue = () => {
    const left = expiresAt - Date.now();
    if (left > 0) {
      expiry = setTimeout(expireWhenDue, Math.min(left, MAX_TIMER_MS));
      expiry.unref();
      return;
    }
    endSession('The admin token has expired.');
  };
  // A reader of the stream learns its session is over on `expired`, whichever way the token ended.
  const endSession = (detail: string) => {
    out.write(`event: expired\ndata: ${JSON.stringify({ detail })}\n\n`);
    end();
  };
  // A server that shuts down ends its streams, or they would hold it open until the grace period.
  // A client that stopped reading cannot take in the end of its stream (its socket buffers are full),
  // so after a moment its connection is cut: it resumes with Last-Event-ID like after any cut.
  const shutDown = () => {
    end();
    const socket = ctx.req.socket;
    const cut = setTimeout(() => socket.destroy(), SHUTDOWN_FLUSH_MS);
    cut.unref();
    ctx.res.once('close', () => clearTimeout(cut));
  };
  open.add(shutDown);
  ctx.req.once('close', end);
  out.once('error', end);
  // Last: either may end the stream at once, which needs everything above.
  forgetSignOut = onSignOut?.(() => endSession(REFUSED_ADMIN_TOKEN.signed_out));
  if (Number.isFinite(tokenValidForMs)) expireWhenDue();
}

/** The list's filters that one entry cannot answer: refused by name rather than ignored. */
const LIST_ONLY = Object.keys(RequestLogQuery.shape).filter((name) => !(name in RequestLogStreamFilter.shape));

/**
 * The stream's filters, read as the list reads them. A list-only one (`q`, `since`, `page`...) is
 * refused: ignored, it would stream everything while the reader believes it narrowed.
 */
export function streamFilterOf(query: Record<string, unknown>): FeedFilter {
  const listOnly = LIST_ONLY.filter((name) => query[name] !== undefined);
  if (listOnly.length > 0) {
    throw new AdminError(
      'validation_failed',
      'The live stream does not take these filters.',
      listOnly.map((name) => ({
        loc: ['query', name],
        msg:
          name === 'after_seq'
            ? 'The live stream resumes after a sequence number given as after (or Last-Event-ID).'
            : `The live stream does not filter by ${name}; GET /request-logs does.`,
        type: 'unrecognized_keys',
      })),
    );
  }
  const { after: _after, ...filters } = query;
  const parsed = RequestLogStreamFilter.safeParse(filters);
  if (!parsed.success) {
    throw new AdminError(
      'validation_failed',
      'The request is not valid.',
      zodIssues(parsed.error, () => ['query']),
    );
  }
  const filter: FeedFilter = {};
  for (const [name, value] of Object.entries(parsed.data)) {
    if (value !== undefined) Object.assign(filter, { [name]: value });
  }
  return filter;
}
