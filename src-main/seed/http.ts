import {
  bodyTextOf,
  describeFetchError,
  failedBeforeSending,
  normalizeBaseUrl,
  resolveUnderBase,
  withoutToken,
} from '../check/http-client';

/**
 * The loader's HTTP: JSON in and out under one base URL, retrying what a busy server asks to be
 * retried (429, 503: honouring Retry-After, else exponential backoff), and stopping everything on
 * 401/403 — more requests with a bad token would only fill the server's log with refusals.
 */

export class SeedAuthError extends Error {
  override readonly name = 'SeedAuthError';
  constructor(
    message: string,
    /** 401 (the token is not taken) or 403 (it is, but not for this request). */
    readonly status: 401 | 403,
  ) {
    super(message);
  }
}

export class SeedHttpError extends Error {
  override readonly name = 'SeedHttpError';
  constructor(
    message: string,
    /** The request may have reached the server (a reset, a timeout): what it carried may exist. */
    readonly maybeDelivered = false,
  ) {
    super(message);
  }
}

export interface SeedHttpOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly maxRetries?: number;
  /** Injected in tests so backoff does not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Once aborted, a request the server asked to retry is not sent again (see JsonResponse.stopped). */
  readonly signal?: AbortSignal;
}

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
  /** The Location header: a 201 whose body is empty still names the new resource there. */
  readonly location?: string;
  /** The server did not take the request (429/503) and the run was stopped before a retry: not sent. */
  readonly stopped?: boolean;
}

const RETRYABLE = new Set([429, 503]);
const MAX_DELAY_MS = 30_000;

export class SeedHttp {
  readonly base: URL;
  retries = 0;
  requests = 0;
  private readonly options: SeedHttpOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: SeedHttpOptions) {
    this.base = normalizeBaseUrl(options.baseUrl);
    this.options = options;
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** `body` is sent as is when a string (already serialised), else as JSON. */
  async send(method: string, path: string, body?: unknown): Promise<JsonResponse> {
    const url = resolveUnderBase(this.base, path);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const timeoutMs = this.options.timeoutMs ?? 120_000;
    const maxRetries = this.options.maxRetries ?? 8;
    for (let attempt = 0; ; attempt++) {
      this.requests += 1;
      let response: Response;
      let text: string;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers: {
            Authorization: `Bearer ${this.options.token}`,
            Accept: 'application/scim+json, application/json',
            ...(payload === undefined ? {} : { 'Content-Type': 'application/scim+json' }),
          },
          body: payload,
          redirect: 'manual',
          // A read is cut by a stop (Ctrl-C) as by the timeout; a write is not: cut mid-way, it
          // could exist on the server with no answer to say so.
          signal:
            method === 'GET' && this.options.signal
              ? AbortSignal.any([AbortSignal.timeout(timeoutMs), this.options.signal])
              : AbortSignal.timeout(timeoutMs),
        });
        // Read here too: a connection that fails while the body comes in (a reset, the timeout) is
        // a failed request like one that fails before the headers, and the server made its work.
        // A server that echoes the request's headers in an error must not put the token in the output.
        text = withoutToken(await bodyTextOf(response), this.options.token);
      } catch (error) {
        throw new SeedHttpError(
          `${method} ${url.href}: ${describeFetchError(error, timeoutMs)}`,
          !failedBeforeSending(error),
        );
      }
      if (response.status === 401 || response.status === 403) {
        throw new SeedAuthError(
          `${method} ${url.pathname} was refused with ${response.status}: check --token (a SCIM token for this base URL)${detailOf(text)}`,
          response.status,
        );
      }
      if (RETRYABLE.has(response.status) && attempt < maxRetries) {
        if (!(await this.waitToRetry(retryDelay(response.headers.get('retry-after'), attempt)))) {
          return { status: response.status, body: parse(text), stopped: true };
        }
        this.retries += 1;
        continue;
      }
      const location = response.headers.get('location');
      return { status: response.status, body: parse(text), ...(location === null ? {} : { location }) };
    }
  }

  /**
   * The waits under way, each ended early by a stop. One listener on the signal for all of them:
   * one each made Node warn of a leak as 16 requests waited on a busy server. A wait leaves the set
   * when it ends, so a long run's backoffs are not all kept until the stop.
   */
  private readonly waiting = new Set<() => void>();
  private listening = false;

  /** Waits out a backoff; false when the run was stopped before or during it. */
  private async waitToRetry(ms: number): Promise<boolean> {
    const signal = this.options.signal;
    if (signal?.aborted) return false;
    if (!signal) {
      await this.sleep(ms);
      return true;
    }
    if (!this.listening) {
      this.listening = true;
      signal.addEventListener('abort', () => {
        for (const stop of this.waiting) stop();
        this.waiting.clear();
      });
    }
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    this.waiting.add(stop);
    try {
      await Promise.race([this.sleep(ms), stopped]);
    } finally {
      this.waiting.delete(stop);
    }
    return !signal.aborted;
  }
}

/** Retry-After in seconds (RFC 9110 §10.2.3; HTTP dates are rare from APIs and read as backoff). */
export function retryDelay(retryAfter: string | null, attempt: number): number {
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
  if (seconds !== undefined) return Math.min(seconds * 1000, MAX_DELAY_MS);
  return Math.min(500 * 2 ** attempt, MAX_DELAY_MS);
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, 500);
  }
}

function detailOf(text: string): string {
  const body = parse(text);
  if (body && typeof body === 'object' && 'detail' in body && typeof body.detail === 'string') {
    return ` (server: ${body.detail.slice(0, 200)})`;
  }
  return '';
}
