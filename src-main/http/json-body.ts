import { lingerWhenClosed } from './lingering-close';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import type { IncomingMessage } from 'node:http';
import { counted } from '../counted';
import { jsonTextDeeperThan } from '../json-depth';
import { bytesAsText } from './bytes-as-text';
import { bodyWithheld, continueWhenRead } from './expect-continue';
import { DEFAULT_BODY_LIMIT as LOGGED_BODY_BYTES } from '../services/request-log/redact';
import type { CaptureState } from './capture';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** No SCIM or admin body needs more; deeper input is refused before any code walks it. */
export const MAX_JSON_DEPTH = 64;
/**
 * How long the 413 of a body announced over its limit waits for the body's first bytes, which the
 * request log keeps: a client that announced a body and stopped sending must not hold the answer.
 */
const REFUSED_HEAD_WAIT_MS = 2_000;

export type JsonBodyProblem = 'unsupported_media_type' | 'too_large' | 'malformed';

export class JsonBodyError extends Error {
  override readonly name = 'JsonBodyError';
  constructor(
    readonly problem: JsonBodyProblem,
    message: string,
  ) {
    super(message);
  }
}

const JSON_TYPES = ['application/json', 'application/scim+json'];
/** Refuses bytes that are not UTF-8 instead of replacing them; drops a leading BOM as before. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a JSON request body within a byte limit. Written here rather than taken from a body-parser
 * middleware because each area must report the three failures in its own format (SCIM: 400
 * invalidSyntax / 413; admin: 422 / 413), which those parsers do not let a caller decide.
 */
export async function readJsonBody(
  ctx: Context,
  limit = DEFAULT_BODY_LIMIT,
  options: { untypedIsJson?: boolean } = {},
): Promise<unknown> {
  if (!ctx.request.type && !hasBody(ctx)) return undefined;
  // Media types compare case-insensitively (RFC 9110 §8.3.1): APPLICATION/JSON is JSON too.
  const untyped = !ctx.request.type && options.untypedIsJson === true;
  if (!untyped && !JSON_TYPES.includes(ctx.request.type.trim().toLowerCase())) {
    await keepRefusedBody(ctx, limit);
    throw new JsonBodyError(
      'unsupported_media_type',
      `Send the body as application/json or application/scim+json (got ${ctx.request.type || 'none'}).`,
    );
  }
  // RFC 8259 §8.1: JSON between systems is UTF-8. A body announced as UTF-16 or UTF-32 was read
  // as UTF-8 and refused as "not valid JSON", which named the wrong problem. (An ASCII-compatible
  // label, ISO-8859-1 say, is read as UTF-8: ASCII text is both, and anything else is told as
  // "not valid UTF-8".) The body is logged decoded: as bytes, its NULs hid a password from the
  // redaction.
  // Read off the header with one pattern, not Koa's `request.charset`: that parses the whole
  // Content-Type on every create, for a label almost no client sends.
  const wide = WIDE_CHARSET.exec(ctx.get('Content-Type'));
  if (wide) {
    const charset = (wide[1] as string).toLowerCase();
    await keepRefusedBody(ctx, limit, decoderFor(charset));
    throw new JsonBodyError(
      'unsupported_media_type',
      `The body is announced as charset=${wide[1]}; send JSON as UTF-8 (RFC 8259 §8.1).`,
    );
  }
  // A compressed body would otherwise be read as text and refused as "not UTF-8", which names the
  // wrong problem. RFC 9110 §8.4.1: a coding the server does not apply is refused (415).
  const coding = contentCoding(ctx);
  if (coding !== 'identity') {
    noteAnnouncedSize(ctx);
    throw new JsonBodyError(
      'unsupported_media_type',
      `Content-Encoding "${coding}" is not supported: send the body uncompressed.`,
    );
  }
  // Node's parser frames `Transfer-Encoding: gzip, chunked` by its chunks and hands on the
  // compressed bytes, which then read as "not UTF-8" or, sent uncompressed under the label, as
  // JSON. RFC 9112 §6.1: a transfer coding the server does not understand is refused (it
  // suggests 501; answered as an unread content coding is, 400 on SCIM paths and 415 elsewhere).
  const transfer = ctx.get('Transfer-Encoding');
  if (transfer && transfer.split(',').some((c) => c.trim().toLowerCase() !== 'chunked')) {
    noteAnnouncedSize(ctx);
    throw new JsonBodyError(
      'unsupported_media_type',
      `Transfer-Encoding "${transfer}" is not supported: send the body with "chunked" alone, or with a Content-Length.`,
    );
  }
  let bytes: Buffer;
  // raw-body drops what it read when it gives up: the head is collected beside it, for the log.
  // Not for a body announced over its limit: raw-body refuses it before reading a byte, and a
  // listener here would set it flowing (keepHeadOfRefusedBody reads its head instead).
  const announced = ctx.request.length;
  const head = announced === undefined || announced <= limit ? new HeadCollector(ctx.req) : undefined;
  if (head) continueWhenRead(ctx.req);
  try {
    bytes = await getRawBody(ctx.req, { limit, length: announced });
  } catch (error) {
    if ((error as { type?: string }).type === 'entity.too.large') {
      await keepHeadOfRefusedBody(ctx, head, error);
      closeAfterAnswer(ctx);
      throw new JsonBodyError('too_large', tooLargeMessage(limit, announced, error));
    }
    if (head) noteBodyCutShort(ctx, error, head);
    throw new JsonBodyError('malformed', 'The request body could not be read.');
  } finally {
    head?.stop();
  }
  // Kept for the request log, which shows what a client really sent, malformed or not. The text,
  // not the parsed value: it crosses to the log's thread as one string, parsed there only when the
  // text is not marked as JSON below (the mark always describes this text, never an earlier one).
  const state = ctx.state as CaptureState;
  state.requestBodyIsJson = false;
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    // RFC 8259 §8.1: JSON between systems is UTF-8. Replacing bad bytes with U+FFFD would store
    // something the client never sent; the log shows them as \xNN, with the size as received.
    state.requestBody = bytesAsText(bytes);
    state.requestBodyBytes = bytes.length;
    throw new JsonBodyError('malformed', 'The request body is not valid UTF-8.');
  }
  if (text.trim() === '') return undefined;
  state.requestBody = text;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (jsonTextDeeperThan(text, MAX_JSON_DEPTH)) {
      throw new JsonBodyError('malformed', `The body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
    }
    // Parsed here: the log need not parse it again to keep it as it came.
    state.requestBodyIsJson = typeof parsed === 'object' && parsed !== null;
    return parsed;
  } catch (error) {
    if (error instanceof JsonBodyError) throw error;
    throw new JsonBodyError('malformed', `The body is not valid JSON: ${jsonErrorReason((error as Error).message)}`);
  }
}

/**
 * A body refused for the size it announced (Bulk's maxPayloadSize), before a byte is read: its head
 * kept for the request log and the connection closed after the answer, as for any body over its
 * limit. Left open, the connection read a refused 1 GB Bulk whole, for Node to reuse it.
 */
export async function refuseBodyUnread(ctx: Context): Promise<void> {
  await keepHeadOfRefusedBody(ctx, undefined, undefined);
  closeAfterAnswer(ctx);
}

/**
 * For a body refused part-read. raw-body leaves the request paused when it gives up, so the answer
 * said `Connection: keep-alive` and the connection then read nothing more: a client that sent its
 * next request on it (IdPs pool connections) got a reset some 6 s later. The connection now ends
 * after the answer, and what still arrives meanwhile is read and dropped, so the client reads the
 * answer rather than a reset (a lingering close, `lingering-close.ts`: left to Node, the connection
 * was destroyed as soon as the answer was written, and a client still sending met the reset all
 * the same).
 */
function closeAfterAnswer(ctx: Context): void {
  // On the response, not a header: Koa removes every header when it answers an error.
  ctx.res.shouldKeepAlive = false;
  ctx.req.resume();
  lingerWhenClosed(ctx.req.socket);
}

/**
 * The first bytes of a request body as they come, up to what the request log keeps: the head of a
 * body refused for its size or cut short (which user, which group, which operation), which its
 * reader needs. Collected while raw-body reads the body, since raw-body drops what it read when it
 * gives up; `onFull` is told once the head is whole. Only references to chunks are held.
 */
class HeadCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size < LOGGED_BODY_BYTES) return;
    this.stop();
    this.onFull?.();
  };

  constructor(
    private readonly req: IncomingMessage,
    private readonly onFull?: () => void,
  ) {
    // Added before raw-body's own listener, in the same turn: both see every chunk from the first.
    req.on('data', this.onData);
  }

  stop(): void {
    this.req.off('data', this.onData);
  }

  head(): Buffer {
    return Buffer.concat(this.chunks).subarray(0, LOGGED_BODY_BYTES);
  }
}

/**
 * The first bytes of a body refused for its size, kept for the request log with the size it was
 * announced at or had reached. A body announced over its limit is refused before a byte of it is
 * read: its head is read here, for at most REFUSED_HEAD_WAIT_MS (the rest is read and dropped by
 * closeAfterAnswer). Not for an encoded body or one the redaction could not read (see
 * keepRefusedBody).
 */
async function keepHeadOfRefusedBody(ctx: Context, chunked: HeadCollector | undefined, error: unknown) {
  const received = (error as { received?: unknown } | undefined)?.received;
  const size = ctx.request.length ?? (typeof received === 'number' ? received : undefined);
  if (size !== undefined) (ctx.state as CaptureState).requestBodyBytes = size;
  // A client waiting for a 100 sends nothing: there is no head to wait for.
  if (contentCoding(ctx) !== 'identity' || bodyWithheld(ctx.req)) return;
  const head = chunked ? chunked.head() : await readHead(ctx.req, REFUSED_HEAD_WAIT_MS);
  // A character cut at the end is left out rather than shown as U+FFFD, which nobody sent.
  const text = new TextDecoder('utf-8').decode(head, { stream: true });
  if (text === '' || !redactableAsText(ctx, text)) return;
  const state = ctx.state as CaptureState;
  state.requestBody = text;
  state.requestBodyIsJson = false;
  if (size !== undefined) state.requestBodyBytes = Math.max(size, head.length);
}

/** The head of a paused request body: as much of it as comes within `waitMs`. */
function readHead(req: IncomingMessage, waitMs: number): Promise<Buffer> {
  if (req.readableEnded || req.destroyed) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      collector.stop();
      req.off('end', done).off('error', done).off('close', done);
      req.pause();
      resolve(collector.head());
    };
    const collector = new HeadCollector(req, done);
    const timer = setTimeout(done, waitMs);
    req.once('end', done).once('error', done).once('close', done);
    req.resume();
  });
}

/**
 * Says how big the body was, not only the limit: "1,048,600 bytes" tells a script's author whether
 * the body is a little over (an attribute too long) or far over (a batch meant for /Bulk).
 */
function tooLargeMessage(limit: number, announced: number | undefined, error: unknown): string {
  const bytes = (n: number) => counted(n, 'byte');
  if (announced !== undefined) return `The request body (${bytes(announced)}) exceeds the limit of ${bytes(limit)}.`;
  const received = (error as { received?: unknown }).received;
  const came = typeof received === 'number' ? `; ${bytes(received)} came before it was refused` : '';
  return `The request body exceeds the limit of ${bytes(limit)}${came}.`;
}

/**
 * The body of a request refused for its media type, kept as text for the request log: an IdP that
 * sends JSON as text/plain, or a form, shows what it sent instead of an empty body. Not when it
 * is encoded (compressed bytes are no text) or over the limit; a failed read changes nothing, the
 * refusal stands.
 */
export async function keepRefusedBody(
  ctx: Context,
  limit = DEFAULT_BODY_LIMIT,
  /** How to read the bytes as text, where they are not UTF-8; undefined keeps no text. */
  decode: ((bytes: Buffer) => string | undefined) | null = bytesAsText,
): Promise<void> {
  if (!hasBody(ctx)) return;
  noteAnnouncedSize(ctx);
  // Not asked for only to be logged: a client waiting for a 100 is told the refusal instead.
  if (contentCoding(ctx) !== 'identity' || bodyWithheld(ctx.req)) return;
  try {
    const bytes = await getRawBody(ctx.req, { limit, length: ctx.request.length });
    const state = ctx.state as CaptureState;
    state.requestBodyBytes = bytes.length;
    const text = decode?.(bytes);
    if (text !== undefined && redactableAsText(ctx, text)) state.requestBody = text;
  } catch {
    // Too large, or the client went away: logged without its body (its announced size is kept).
    closeAfterAnswer(ctx);
  }
}

/** A `charset` parameter naming an encoding that is not ASCII-compatible (quoted or not). */
const WIDE_CHARSET = /;\s*charset\s*=\s*"?((?:utf-?(?:16|32)|ucs-?[24])[\w-]*)/i;

/** A decoder for a charset Node knows (UTF-16 in either order); none for the others (UTF-32). */
function decoderFor(charset: string): ((bytes: Buffer) => string | undefined) | null {
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    return null;
  }
  return (bytes) => {
    try {
      return decoder.decode(bytes);
    } catch {
      return undefined; // not that charset after all: kept as its size only
    }
  };
}

/** A body that is not read (encoded, refused before reading) still has the size it announced. */
export function noteAnnouncedSize(ctx: Context): void {
  const announced = ctx.request.length;
  if (announced !== undefined) (ctx.state as CaptureState).requestBodyBytes = announced;
}

/**
 * Whether the request log's redaction can find the secrets of a refused body: JSON text (parsed, or
 * scanned for `"password": …` when malformed) and a form (`password=…`). An XML user
 * (`<password>…</password>`) or a multipart part named password would be kept in clear.
 */
function redactableAsText(ctx: Context, text: string): boolean {
  return ctx.request.type.trim().toLowerCase() === 'application/x-www-form-urlencoded' || /^\s*[[{]/.test(text);
}

/**
 * How much of the body had come when the client went away or stopped sending (a 408), and its
 * head, for the request log: which user it was, as for a body refused for its size.
 */
function noteBodyCutShort(ctx: Context, error: unknown, head: HeadCollector): void {
  const { type, received } = error as { type?: string; received?: unknown };
  if (type !== 'request.aborted') return;
  const state = ctx.state as CaptureState;
  if (typeof received === 'number') state.requestBodyBytes = received;
  state.bodyCutShort = {
    received: typeof received === 'number' ? received : 0,
    expected: ctx.request.length,
  };
  if (contentCoding(ctx) !== 'identity') return;
  // A character cut at the end is left out rather than shown as U+FFFD, which nobody sent.
  const text = new TextDecoder('utf-8').decode(head.head(), { stream: true });
  if (text === '' || !redactableAsText(ctx, text)) return;
  state.requestBody = text;
  state.requestBodyIsJson = false;
}

/**
 * The request body's content coding, lower case; `identity` when none is named, or when every
 * coding listed is `identity` (`identity, identity` is still the body as sent).
 */
function contentCoding(ctx: Context): string {
  const codings = (ctx.get('Content-Encoding') || 'identity').trim().toLowerCase();
  return codings.split(',').every((coding) => coding.trim() === 'identity') ? 'identity' : codings;
}

/** Whether the request announces a body (a length above zero, or chunks). */
export function hasBody(ctx: Context): boolean {
  return Boolean(ctx.request.length) || Boolean(ctx.req.headers['transfer-encoding']);
}

/**
 * V8's reason, without the excerpt of the body it quotes around an unexpected token: the excerpt
 * can hold the start of a password (`"password":Hunter2-Ve`), and the request log's redaction only
 * removes secrets it finds whole. The other reasons give a position instead, which is kept.
 */
function jsonErrorReason(message: string): string {
  return message.replace(/^(Unexpected token '[\s\S]{1,2}'), [\s\S]* is not valid JSON$/, '$1');
}
