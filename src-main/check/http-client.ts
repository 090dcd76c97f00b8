import type { Credential, Exchange, RecordedRequest, RecordedResponse } from './types';

/**
 * The checker's only way out: every request goes to a path under the base URL it was given, with
 * a timeout, without following redirects (a redirect could point anywhere), and comes back as an
 * Exchange the report shows. It never throws for what the server does — a refused connection or a
 * timeout is an Exchange with `error`, so a broken server yields a failed step, not a crash.
 */

export interface ScimHttpClientOptions {
  readonly baseUrl: string;
  readonly token: string;
  /** Per request; a server that hangs fails that step only. */
  readonly timeoutMs?: number;
  /** Injected in tests; the global fetch otherwise. */
  readonly fetch?: typeof fetch;
}

export interface OutgoingRequest {
  readonly method: string;
  /** Already encoded, relative to the base URL, starting with '/'. */
  readonly path: string;
  /** JSON to send, or raw text. */
  readonly body?: unknown;
  readonly rawBody?: string;
  /** Sent instead of the token (see StepDefinition.credential). */
  readonly credential?: Credential;
  /** Further request headers (the cleanup's `If-Match`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What Okta's spec tests send as a credential no server could have issued. */
export const INVALID_CREDENTIAL = 'non-token';

export const DEFAULT_TIMEOUT_MS = 15_000;
/** Enough of a non-JSON answer (an HTML error page) to recognise it in the report. */
const MAX_TEXT = 2_000;

export function normalizeBaseUrl(raw: string): URL {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`not an http(s) URL: ${raw}`);
  url.hash = '';
  url.search = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** Joins a relative path to the base and refuses anything that would leave it. */
export function resolveUnderBase(base: URL, path: string): URL {
  if (!path.startsWith('/')) throw new Error(`request paths are relative to the base URL and start with '/': ${path}`);
  // A base at the host's root has the path `/`, which `/Users` would follow as `//Users`.
  const url = new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}${path}`);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
    throw new Error(`refusing to send outside ${base.href}: ${url.href}`);
  }
  return url;
}

export class ScimHttpClient {
  readonly base: URL;
  private readonly token: string;
  readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ScimHttpClientOptions) {
    this.base = normalizeBaseUrl(options.baseUrl);
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async send(request: OutgoingRequest): Promise<Exchange> {
    const url = resolveUnderBase(this.base, request.path);
    const headers: Record<string, string> = { Accept: 'application/scim+json, application/json' };
    const hasBody = request.body !== undefined || request.rawBody !== undefined;
    if (hasBody) headers['Content-Type'] = 'application/scim+json';
    Object.assign(headers, request.headers);
    const recorded: RecordedRequest = {
      method: request.method,
      url: url.href,
      headers: { ...headers, ...authorization(request.credential, 'Bearer <redacted>') },
      ...(hasBody ? { body: request.rawBody ?? request.body } : {}),
    };
    Object.assign(headers, authorization(request.credential, `Bearer ${this.token}`));
    const started = performance.now();
    try {
      const response = await this.fetchImpl(url, {
        method: request.method,
        headers,
        body: request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body)),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await bodyTextOf(response);
      return { request: recorded, response: record(response, text, this.token), durationMs: elapsed(started) };
    } catch (error) {
      return { request: recorded, error: describeFetchError(error, this.timeoutMs), durationMs: elapsed(started) };
    }
  }
}

function authorization(credential: Credential | undefined, token: string): Record<string, string> {
  if (credential === 'none') return {};
  return { Authorization: credential === 'invalid' ? INVALID_CREDENTIAL : token };
}

function record(response: Response, text: string, token: string): RecordedResponse {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = withoutToken(value, token);
  });
  const body = withoutToken(text, token);
  return { status: response.status, headers, ...(body === '' ? {} : { body: parseBody(body) }) };
}

/**
 * The text with the token replaced: a server that echoes a request's headers in an error put the
 * secret in the report the check writes. A token under 8 characters is not looked for (replacing
 * it everywhere would mangle the text; no real token is that short).
 */
export function withoutToken(text: string, token: string): string {
  return token.length >= 8 && text.includes(token) ? text.split(token).join('<redacted>') : text;
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** Node's codes for a TLS handshake or certificate that failed: no later request gets past them. */
export const TLS_FAILURE =
  /^(ERR_SSL_|ERR_TLS_|EPROTO$|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|CERT_|ERR_CERT_)/;
const TLS_HINT =
  'TLS failed: check that the URL says https only for an https server; to trust a private CA or a ' +
  'self-signed certificate, run with NODE_EXTRA_CA_CERTS=/path/to/ca.pem';

/** Connection errors no later request would get past either: a check stops at the first of them. */
export const NO_CONNECTION_CODES = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
] as const;

/** Connection errors that mean the request never reached a server: nothing it asked for was done. */
const NEVER_CONNECTED = new Set<string>([
  ...NO_CONNECTION_CODES,
  // undici's: the connection did not open in time (a check takes it as one step's timeout).
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether a fetch that failed is known not to have delivered its request: no connection, a TLS
 * handshake that failed, a port fetch refuses. A reset, a closed socket or a timeout may come after
 * the server took the request, so what it asked for may have been done.
 */
export function failedBeforeSending(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause?.message === 'bad port') return true;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  return NEVER_CONNECTED.has(code) || TLS_FAILURE.test(code);
}

/**
 * The most of an answer's body read, far above any SCIM answer (a page of 1,000 users is a few
 * MB). Read whole, a server answering 3 GB crashed the check (V8 cannot make such a string) before
 * its cleanup ran, and left its users behind.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** An answer whose body is over MAX_ANSWER_BYTES: not read further. */
export class AnswerTooLargeError extends Error {
  override readonly name = 'AnswerTooLargeError';
}

/** The body as UTF-8 text, read as it comes and given up past `maxBytes` (see MAX_ANSWER_BYTES). */
export async function bodyTextOf(response: Response, maxBytes = MAX_ANSWER_BYTES): Promise<string> {
  const announced = Number(response.headers.get('content-length'));
  const tooLarge = () => new AnswerTooLargeError(`the answer's body is over ${maxBytes / 1024 / 1024} MB; not read`);
  if (announced > maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return '';
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let read = 0;
  for await (const chunk of response.body) {
    read += chunk.byteLength;
    if (read > maxBytes) {
      // Leaving the loop cancels the stream, which closes the connection.
      throw tooLarge();
    }
    parts.push(decoder.decode(chunk, { stream: true }));
  }
  parts.push(decoder.decode());
  return parts.join('');
}

/** How an exchange's error begins when no answer came in time. */
export const NO_ANSWER_WITHIN = 'no answer within';

/** fetch's errors hide the useful part in `cause` (ECONNREFUSED, a certificate problem). */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (error instanceof AnswerTooLargeError) return error.message;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `${NO_ANSWER_WITHIN} ${timeoutMs} ms`;
  const cause = err.cause;
  if (cause?.code) {
    // OpenSSL's messages run over several lines (`…:ssl3_get_record:wrong version number:…`).
    const message = cause.message?.split('\n')[0]?.trim();
    const said = `${cause.code}${message ? `: ${message}` : ''}`;
    return TLS_FAILURE.test(cause.code) ? `${said} (${TLS_HINT})` : said;
  }
  // Fetch refuses some ports outright (its "bad ports": 6000, 6665-6669, …) with no error code.
  if (cause?.message === 'bad port') return 'fetch refuses this port (a "bad port" of the Fetch standard); use another';
  if (cause?.message) return `${err.message}: ${cause.message}`;
  return err.message ?? String(error);
}

/**
 * A body that is not JSON, in a few words rather than as it came: a proxy's or web server's error
 * page is kilobytes of HTML, which buried the summary line it was quoted in.
 */
export function describeText(text: string): string {
  if (/^\s*<(!doctype\s+html|html|head|body)\b/i.test(text)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.replace(/\s+/g, ' ').trim();
    return title ? `an HTML page ("${title.slice(0, 80)}")` : 'an HTML page';
  }
  const line = (text.trim().split(/\r?\n/, 1)[0] ?? '').replace(/\p{Cc}/gu, '');
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** RFC 7644 §3.3, §3.7.3: `Location` is the new resource's URI; its last segment is the id. */
export function idFromLocation(location: string): string | undefined {
  const path = location.split(/[?#]/)[0]!.replace(/\/+$/, '');
  const last = path.slice(path.lastIndexOf('/') + 1);
  if (last === '') return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    return last; // a stray % is part of the id as the server wrote it
  }
}
