import { z } from 'zod';
import { loadWithBulk } from './bulk';
import { generateDirectory, seedSlug } from './generator';
import { SeedAuthError, SeedHttp, SeedHttpError, type JsonResponse } from './http';
import { describeText, FailureLog } from './outcomes';
import { loadWithPosts } from './post';
import type { BulkLimits, LoadContext, SeedMode, SeedProgress } from './types';

/**
 * `scimdesk seed`'s engine: generate a directory from the seed, ask the server what it supports
 * (RFC 7643 §5), then load it with Bulk when offered and with POSTs otherwise. Talks HTTP only, so
 * it fills scimdesk or any other SCIM server.
 */

export interface SeedOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly users: number;
  readonly groups: number;
  readonly seed: string;
  readonly passwords?: boolean;
  /** auto: Bulk when the ServiceProviderConfig says it is supported. */
  readonly mode?: 'auto' | SeedMode;
  /** Requests in flight (default: 16 either way). */
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onProgress?: (progress: SeedProgress) => void;
  /** Aborting stops sending: requests under way are answered and counted, the rest are not sent. */
  readonly signal?: AbortSignal;
}

export interface SeedResult {
  /** How it loaded; absent when it stopped before it had chosen (`auto` still asking the server). */
  readonly mode?: SeedMode;
  readonly bulk?: BulkLimits & { readonly requests: number };
  readonly usersCreated: number;
  readonly groupsCreated: number;
  readonly memberships: number;
  /** Managers or members left out because the user they named could not be created. */
  readonly droppedReferences: number;
  readonly failed: number;
  /**
   * Users and groups not made because the run stopped first (the signal, or `stoppedBy`): never
   * sent, or in a request refused with 401/403.
   */
  readonly notSent: number;
  /** Sent, but the connection failed before the answer: they may or may not exist. */
  readonly unconfirmed: number;
  readonly interrupted: boolean;
  /** The error that stopped the run part way (a failed connection, a 401): what was done is counted. */
  readonly stoppedBy?: string;
  readonly failures: readonly { readonly kind: string; readonly count: number; readonly example: string }[];
  readonly requests: number;
  /** Of `requests`, the GETs that learnt about the server before loading (/ServiceProviderConfig, /Users). */
  readonly probes: number;
  readonly retries: number;
  readonly seconds: number;
}

// Most servers (scimdesk too) run one bulk request's operations in sequence, each waiting for its
// write to be durable, so throughput comes from requests in parallel: 16 loads 100k users into
// scimdesk in well under a minute. A server that objects answers 429, and the loader backs off.
const DEFAULT_BULK_CONCURRENCY = 16;
const DEFAULT_POST_CONCURRENCY = 16;

const bulkConfig = z.looseObject({
  bulk: z.looseObject({
    supported: z.boolean(),
    maxOperations: z.number().int().positive().optional(),
    maxPayloadSize: z.number().int().positive().optional(),
  }),
});

/** RFC 7643 §5: bulk.maxOperations and maxPayloadSize bound each request; absent limits get modest ones. */
async function discoverBulk(http: SeedHttp): Promise<BulkLimits | undefined> {
  const response = await http.send('GET', '/ServiceProviderConfig');
  if (response.status !== 200) return undefined;
  const parsed = bulkConfig.safeParse(response.body);
  if (!parsed.success || !parsed.data.bulk.supported) return undefined;
  return {
    maxOperations: parsed.data.bulk.maxOperations ?? 100,
    maxPayloadSize: parsed.data.bulk.maxPayloadSize ?? 1024 * 1024,
  };
}

/**
 * One GET before anything is sent. A base URL that is not a SCIM one (a typo, the console's URL,
 * a tenant the token cannot see) used to fail every user on its own, each with its page of HTML,
 * and a 404 for /ServiceProviderConfig was read as "no Bulk". It stops here with one message;
 * a 401 stops here too (SeedHttp), a 403 is left to the POSTs (a token may write but not list). Anything else (a 500, a server that dislikes count=0) is left
 * to the load, which reports it per resource.
 */
async function checkUsersEndpoint(http: SeedHttp): Promise<void> {
  let response: JsonResponse;
  try {
    response = await http.send('GET', '/Users?count=0');
  } catch (error) {
    // A token that may create users but not list them: the POSTs will tell.
    if (error instanceof SeedAuthError && error.status === 403) return;
    throw error;
  }
  const { status, body } = response;
  const json = body !== null && typeof body === 'object';
  // A SCIM error says why itself ("Tenant tn_x not found."): dropped, the summary guessed at it.
  const detail =
    json && typeof (body as { detail?: unknown }).detail === 'string' ? (body as { detail: string }).detail : '';
  const what =
    body === undefined
      ? 'no body'
      : typeof body === 'string'
        ? describeText(body) || 'an empty page'
        : detail
          ? `"${detail.replace(/\p{Cc}/gu, ' ').slice(0, 200)}"`
          : 'JSON';
  const where = http.base.href.replace(/\/$/, '');
  if (status === 404) {
    throw new SeedHttpError(
      `GET /Users answered 404 (${what}): ${where} is not a SCIM base URL, or names a tenant this token ` +
        'cannot see; check --url',
    );
  }
  if (status >= 300 && status < 400) {
    throw new SeedHttpError(`GET /Users answered ${status} (a redirect): give --url as the address it redirects to`);
  }
  if (status < 300 && !json) {
    throw new SeedHttpError(
      `GET /Users answered ${status} with ${what}, not a SCIM ListResponse: ${where} is not a SCIM base URL; check --url`,
    );
  }
}

export async function seedScim(options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const http = new SeedHttp({
    baseUrl: options.baseUrl,
    token: options.token,
    timeoutMs: options.timeoutMs,
    fetch: options.fetch,
    sleep: options.sleep,
    signal: options.signal,
  });
  const directory = generateDirectory({
    users: options.users,
    groups: options.groups,
    seed: options.seed,
    passwords: options.passwords,
  });
  const total = directory.users.length + directory.groups.length;
  // Stopped while it learnt about the server (its GETs are cut, reading nothing the server keeps):
  // nothing was sent, and nothing more is asked.
  const stoppedBeforeLoading = (): SeedResult => ({
    ...(options.mode === 'post' || options.mode === 'bulk' ? { mode: options.mode } : {}),
    usersCreated: 0,
    groupsCreated: 0,
    memberships: 0,
    droppedReferences: 0,
    failed: 0,
    notSent: total,
    unconfirmed: 0,
    interrupted: true,
    failures: [],
    requests: http.requests,
    probes: http.requests,
    retries: http.retries,
    seconds: (performance.now() - started) / 1000,
  });
  let limits: BulkLimits | undefined;
  try {
    await checkUsersEndpoint(http);
    if (options.signal?.aborted) return stoppedBeforeLoading();
    limits = options.mode === 'post' ? undefined : await discoverBulk(http);
  } catch (error) {
    if (options.signal?.aborted) return stoppedBeforeLoading();
    throw error;
  }
  if (options.signal?.aborted) return stoppedBeforeLoading();
  const probes = http.requests;
  const mode: SeedMode = limits ? 'bulk' : 'post';
  const failures = new FailureLog();
  const counts = {
    usersCreated: 0,
    groupsCreated: 0,
    memberships: 0,
    droppedReferences: 0,
    unconfirmed: 0,
    bulkRequests: 0,
  };
  const ctx: LoadContext = {
    http,
    directory,
    organization: `Demo ${seedSlug(options.seed)}`,
    concurrency: options.concurrency ?? (mode === 'bulk' ? DEFAULT_BULK_CONCURRENCY : DEFAULT_POST_CONCURRENCY),
    userIds: new Array<string | undefined>(directory.users.length),
    failures,
    counts,
    signal: options.signal,
    progress: (phase) =>
      options.onProgress?.({
        phase,
        mode,
        done: counts.usersCreated + counts.groupsCreated + failures.total,
        total,
        failed: failures.total,
      }),
  };
  let stoppedBy: string | undefined;
  try {
    await (limits ? loadWithBulk(ctx, limits) : loadWithPosts(ctx));
  } catch (error) {
    // Part of the directory is on the server by now: the summary must still say how much.
    if (!(error instanceof SeedHttpError || error instanceof SeedAuthError)) throw error;
    stoppedBy = error.message;
  }
  const { bulkRequests, ...made } = counts;
  return {
    mode,
    ...(limits ? { bulk: { ...limits, requests: bulkRequests } } : {}),
    ...made,
    failed: failures.total,
    notSent: total - counts.usersCreated - counts.groupsCreated - failures.total - counts.unconfirmed,
    interrupted: options.signal?.aborted === true,
    ...(stoppedBy === undefined ? {} : { stoppedBy }),
    failures: failures.list(),
    requests: http.requests,
    probes,
    retries: http.retries,
    seconds: (performance.now() - started) / 1000,
  };
}
