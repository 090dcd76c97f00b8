import { randomBytes } from 'node:crypto';
import { errorDetail, evaluate, statusMet, statusList, valueAt } from './expectations';
import { describeText, idFromLocation, NO_ANSWER_WITHIN, NO_CONNECTION_CODES, ScimHttpClient } from './http-client';
import { PROFILES } from './profiles/index';
import { serviceProviderConfigShape } from './shapes';
import { buildPath, fillJson, MissingVariable } from './templates';
import type {
  CheckEvent,
  CheckReport,
  CleanupResult,
  Exchange,
  Feature,
  Finding,
  Json,
  ProfileName,
  StepDefinition,
  StepResult,
  Summary,
  Verdict,
} from './types';

/**
 * Runs profiles against one SCIM base URL, step by step, reporting each result as it comes, then
 * deletes what it created (unless `keep`) — in a `finally`, so a failing or crashing step still
 * cleans up. Steps run in sequence: provisioning sequences are stateful, and a checker that
 * hammers the server would test something else.
 */

export interface CheckOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly profiles: readonly ProfileName[];
  readonly keep?: boolean;
  readonly timeoutMs?: number;
  /** Every name the run creates carries it; random unless given (tests). */
  readonly runId?: string;
  readonly fetch?: typeof fetch;
  readonly onEvent?: (event: CheckEvent) => void;
  /**
   * Stops the run after the step under way (Ctrl-C). That step's request is not cut: a create cut
   * mid-way might have been made on the server without the run learning its id to delete it.
   */
  readonly signal?: AbortSignal;
}

const INTERRUPTED = 'not run: the check was interrupted';

interface Tracked {
  readonly type: 'User' | 'Group';
  /** Absent when the server's answer named none: it cannot be deleted, and the report says so. */
  readonly id?: string;
  /** A step of the run deleted it (2xx or 404): the cleanup only makes sure it is gone. */
  deletedByStep?: boolean;
}

const POST_CREATES: Readonly<Record<string, 'User' | 'Group'>> = { '/Users': 'User', '/Groups': 'Group' };

/** The resource type a step's path names (`/Groups/{{groupId}}`), if it names one. */
function typeOfPath(path: string): 'User' | 'Group' | undefined {
  return POST_CREATES[`/${path.split('/')[1] ?? ''}`];
}

const CONTENT_TYPE_FINDING = 'Content-Type is not application/scim+json (RFC 7644 §3.1, §8.1)';

export function newRunId(): string {
  // Lower-case letters and digits only: the profiles build case-variant names from it.
  return randomBytes(5).toString('hex');
}

export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const client = new ScimHttpClient({
    baseUrl: options.baseUrl,
    token: options.token,
    timeoutMs: options.timeoutMs,
    fetch: options.fetch,
  });
  const runId = options.runId ?? newRunId();
  const emit = options.onEvent ?? (() => undefined);
  const started = new Date();
  const startedMs = performance.now();
  const plan = options.profiles.flatMap((name) => PROFILES[name].steps.map((step) => ({ profile: name, step })));
  emit({ type: 'start', target: client.base.href, profiles: options.profiles, total: plan.length });

  const results: StepResult[] = [];
  const tracked: Tracked[] = [];
  let cleanup: CleanupResult;
  try {
    // Each profile has its own variables (and names), so profiles in one run cannot collide.
    const varsByProfile = new Map<ProfileName, Record<string, string>>();
    const features = new Map<Feature, boolean>();
    let stopped: string | undefined;
    // Whether the token has opened a resource endpoint yet: until it has, a 403 is the token's.
    let tokenWorked = false;
    // The steps whose expectations held (advice aside), for the steps that read them back (`needs`).
    const held = new Set<string>();
    // The writes answered with a 2xx, for the steps that read them back (`readsBack`).
    const accepted = new Set<string>();
    // The steps in a row that got no answer in time: a server gone silent would make every later
    // step wait out its timeout too (93 steps, 23 minutes).
    let silent: string[] = [];
    for (const [index, { profile, step }] of plan.entries()) {
      let vars = varsByProfile.get(profile);
      if (!vars) varsByProfile.set(profile, (vars = { run: runId }));
      if (options.signal?.aborted) stopped ??= INTERRUPTED;
      const result = stopped
        ? notRun(profile, step, stopped)
        : await runStep(client, profile, step, { vars, features, tracked, held, accepted });
      stopped ??= reasonToStop(step, result, tokenWorked);
      if (result.exchange) silent = timedOut(result.exchange) ? [...silent, step.id] : [];
      if (silent.length >= SILENT_STEPS_TO_STOP) {
        stopped ??= `not run: the server answered neither ${silent.join(' nor ')} within ${client.timeoutMs} ms; it has stopped answering`;
      }
      tokenWorked ||= opensResources(step, result);
      results.push(result);
      emit({ type: 'step', index, total: plan.length, result });
    }
  } finally {
    cleanup = await removeTracked(client, tracked, options.keep === true);
    emit({ type: 'cleanup', result: cleanup });
  }
  const report: CheckReport = {
    tool: 'scimdesk check',
    reportVersion: 1,
    target: client.base.href,
    profiles: options.profiles,
    runId,
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - startedMs),
    steps: results,
    cleanup,
    summary: summarize(results),
    ...(options.signal?.aborted ? { interrupted: true as const } : {}),
  };
  emit({ type: 'done', report });
  return report;
}

/**
 * Steps in a row without an answer in time that stop a run. One is that step's failure (a slow
 * filter, a lock held a while); a second in a row is a server that no longer answers.
 */
const SILENT_STEPS_TO_STOP = 2;

function timedOut(exchange: Exchange): boolean {
  return exchange.response === undefined && exchange.error?.startsWith(NO_ANSWER_WITHIN) === true;
}

/** What the steps of a run share as it goes. */
interface RunState {
  readonly vars: Record<string, string>;
  readonly features: Map<Feature, boolean>;
  readonly tracked: Tracked[];
  readonly held: Set<string>;
  readonly accepted: Set<string>;
}

async function runStep(
  client: ScimHttpClient,
  profile: ProfileName,
  step: StepDefinition,
  { vars, features, tracked, held, accepted }: RunState,
): Promise<StepResult> {
  const expected = {
    status: statusList(step.expect.status),
    ...(step.expect.body ? { body: step.expect.body } : {}),
    ...(step.expect.match !== undefined ? { match: safeFill(step.expect.match, vars) } : {}),
    ...(step.expect.absent ? { absent: step.expect.absent } : {}),
  };
  const base = { profile, id: step.id, name: step.name, level: step.level, expected };
  if (step.requires && features.get(step.requires) === false) {
    const reason = `the server's ServiceProviderConfig says ${step.requires} is not supported`;
    return { ...base, verdict: 'skipped', findings: [], skippedReason: reason };
  }
  if (step.needs !== undefined && !held.has(step.needs)) {
    const reason = `depends on ${step.needs}, which did not succeed`;
    return { ...base, verdict: 'skipped', findings: [], skippedReason: reason };
  }
  if (step.readsBack !== undefined && !accepted.has(step.readsBack)) {
    const reason = `reads back ${step.readsBack}, which the server did not accept: nothing was stored to read`;
    return { ...base, verdict: 'skipped', findings: [], skippedReason: reason };
  }
  let exchange: Exchange;
  try {
    const path = buildPath(step.path, step.query, vars);
    // What the answer is held to may name an id an earlier step was to capture, too.
    for (const match of [step.expect.match, step.advise?.match]) if (match !== undefined) fillJson(match, vars);
    const body = step.body;
    exchange = await client.send({
      method: step.method,
      path,
      ...(body === undefined ? {} : isRaw(body) ? { rawBody: body.raw } : { body: fillJson(body, vars) }),
      ...(step.credential ? { credential: step.credential } : {}),
    });
  } catch (error) {
    if (error instanceof MissingVariable) {
      return { ...base, verdict: 'skipped', findings: [], skippedReason: error.message };
    }
    throw error;
  }
  const expectFindings = evaluate(step.expect, step.level, exchange, vars);
  if (expectFindings.length === 0) held.add(step.id);
  const status = exchange.response?.status;
  if (status !== undefined && status >= 200 && status < 300) accepted.add(step.id);
  const findings: Finding[] = [
    ...expectFindings,
    // Advice on an answer that came with the wrong status, or none, would only restate that.
    ...(step.advise && statusMet(step.expect, exchange) ? evaluate(step.advise, 'recommended', exchange, vars) : []),
    ...contentTypeFindings(exchange),
  ].map((finding) =>
    // Nothing in a recommended step is required: its checks (`reflects`) default to required, and
    // such a step showed FAIL in a run that passed and exited 0.
    step.level === 'recommended' && finding.level === 'required' ? { ...finding, level: 'recommended' } : finding,
  );
  remember(step, exchange, vars, features, tracked);
  return { ...base, verdict: verdictOf(findings), findings, exchange };
}

/**
 * Why the steps after this one cannot tell anything, so that a wrong `--token` or `--url` gets one
 * message instead of a wall of failures each with its own dump:
 * - the server refused the token (401), or forbade it (403) on `/Users` or `/Groups` before it had
 *   opened either (an admin token on `/scim/v2`, a token for another API); a 403 after that, or on
 *   a discovery endpoint, is one operation's refusal;
 * - `/Users` itself is not there (404) before it ever answered: the URL is not a SCIM base, or
 *   names a tenant the token cannot see (discovery endpoints often answer without a tenant or
 *   token, so they pass first). Once it has answered, a 404 (to a filter, say) is that step's;
 * - the server cannot be reached at all.
 * A reset is one step's failure (two timeouts in a row stop the run; see SILENT_STEPS_TO_STOP), and
 * a step that expects the status is not one.
 */
function reasonToStop(step: StepDefinition, result: StepResult, tokenWorked: boolean): string | undefined {
  const exchange = result.exchange;
  if (!exchange) return undefined;
  const status = exchange.response?.status;
  if (status === undefined && UNREACHABLE.test(exchange.error ?? '')) {
    return `not run: the server could not be reached at step ${step.id} (${exchange.error})`;
  }
  // A step without the token may be answered anything (a redirect to a login page, a 404 that hides
  // what exists): only the unreachable stop the run there.
  if (step.credential) return undefined;
  // /Users with the token answered with a page rather than JSON (a web server's 404, 405 or 501, a
  // single-page app's index at 200, even where 200 is what the step expects) is no SCIM endpoint,
  // and every later step would fail on its own with that page. Not a 3xx, 400, 415 or 5xx page: a
  // SCIM server behind a proxy may send those for one request's reasons.
  const pageNotApi = status !== undefined && ((status >= 200 && status < 300) || [404, 405, 501].includes(status));
  const text = exchange.response?.body;
  if (step.path === '/Users' && !tokenWorked && pageNotApi && typeof text === 'string' && !brokenJson(exchange)) {
    return (
      `not run: ${step.method} /Users answered ${status} with ${describeText(text) || 'an empty body'}, ` +
      `not SCIM JSON, at step ${step.id}: the URL is not a SCIM base URL; check --url`
    );
  }
  if (status !== undefined && statusList(step.expect.status).includes(status)) return undefined;
  if (status === 401) return `not run: the server refused the token with 401 at step ${step.id}; check --token`;
  // Not for a filtered list: some servers answer 404 to a filter that matches nothing (that step's
  // failure), and Entra's first step is one.
  if (status === 404 && step.path === '/Users' && step.query === undefined && !tokenWorked) {
    return (
      `not run: ${step.method} /Users answered 404 at step ${step.id}: the URL is not a SCIM base URL, ` +
      'or names a tenant this token cannot see; check --url'
    );
  }
  if (status === 403 && !tokenWorked && RESOURCE_PATH.test(step.path)) {
    return (
      `not run: the server forbade the token (403) at step ${step.id}, before any request to /Users or ` +
      '/Groups succeeded; check that --token is a SCIM token for this URL'
    );
  }
  return undefined;
}

/**
 * An answer from a SCIM endpoint whose JSON is broken, not a web page: its type says SCIM, or its
 * text starts as JSON does. Read as a page, a server that cut its bodies short was told its URL
 * was not a SCIM base URL, and every step after the first create went unrun.
 */
function brokenJson(exchange: Exchange): boolean {
  const response = exchange.response;
  if (!response || typeof response.body !== 'string') return false;
  return /^application\/scim\+json\b/i.test(response.headers['content-type'] ?? '') || /^\s*[{[]/.test(response.body);
}

/** `/Users` and `/Groups`, and what is under them: what a SCIM token is for. */
const RESOURCE_PATH = /^\/(Users|Groups)\b/;

/** A request to a resource endpoint succeeded: the token is good for the resources. */
function opensResources(step: StepDefinition, result: StepResult): boolean {
  const response = result.exchange?.response;
  // Not a page: a web page at 200 is not a SCIM server taking the token (a 204 has no body at all).
  const page = typeof response?.body === 'string';
  return !step.credential && RESOURCE_PATH.test(step.path) && response !== undefined && response.status < 300 && !page;
}

/** Errors (as describeFetchError words them) that no later request would get past. */
const UNREACHABLE = new RegExp(`^(${NO_CONNECTION_CODES.join('|')})\\b|^fetch refuses this port|\\(TLS failed: `);

function notRun(profile: ProfileName, step: StepDefinition, reason: string): StepResult {
  const expected = { status: statusList(step.expect.status) };
  return {
    profile,
    id: step.id,
    name: step.name,
    level: step.level,
    expected,
    verdict: 'skipped',
    findings: [],
    skippedReason: reason,
  };
}

/** `{ raw }` is how a step sends text that is not JSON (a malformed body on purpose). */
function isRaw(body: Json | { readonly raw: string }): body is { readonly raw: string } {
  return (
    body !== null &&
    typeof body === 'object' &&
    !Array.isArray(body) &&
    typeof body['raw'] === 'string' &&
    Object.keys(body).length === 1
  );
}

/** The expected body as the report shows it; a variable not yet captured stays as its template. */
function safeFill(match: Json, vars: Record<string, string>): unknown {
  try {
    return fillJson(match, vars);
  } catch {
    return match;
  }
}

function contentTypeFindings(exchange: Exchange): Finding[] {
  const response = exchange.response;
  if (!response || response.body === undefined || typeof response.body === 'string') return [];
  const type = response.headers['content-type'] ?? '';
  return /^application\/scim\+json\b/i.test(type) ? [] : [{ level: 'recommended', message: CONTENT_TYPE_FINDING }];
}

function verdictOf(findings: readonly Finding[]): Verdict {
  if (findings.some((f) => f.level === 'required')) return 'fail';
  return findings.length > 0 ? 'warning' : 'pass';
}

/** Captures variables, learns the server's features and keeps the cleanup list current. */
function remember(
  step: StepDefinition,
  exchange: Exchange,
  vars: Record<string, string>,
  features: Map<Feature, boolean>,
  tracked: Tracked[],
): void {
  const response = exchange.response;
  if (!response) return;
  const ok = response.status >= 200 && response.status < 300;
  // Captured even when the step failed on a detail (200 instead of 201): later steps still run.
  for (const [name, path] of Object.entries(step.capture ?? {})) {
    const value = valueAt(response.body, path);
    if (ok && (typeof value === 'string' || typeof value === 'number')) vars[name] = String(value);
  }
  // Any POST that created something is tracked, not only the steps meant to create: a server that
  // accepts the duplicate a step sends to provoke a 409 must not keep the duplicate.
  const creates = step.creates ?? (step.method === 'POST' ? POST_CREATES[step.path] : undefined);
  // A web page answered 200 to anything (a single-page app at the URL) made nothing: counted, it
  // was reported as left on the server. One that names what it made (Location) did make it.
  const location = response.headers['location'];
  const page = /^\s*text\/html\b/i.test(response.headers['content-type'] ?? '') && !location;
  if (creates && ok && !page) {
    // RFC 7644 §3.3: the body SHOULD hold the resource, Location SHALL name it; an id may be a number.
    const inBody = valueAt(response.body, 'id');
    const id =
      typeof inBody === 'string' || typeof inBody === 'number'
        ? String(inBody)
        : location
          ? idFromLocation(location)
          : undefined;
    const known = id === undefined || id === '' ? undefined : tracked.find((t) => t.type === creates && t.id === id);
    // An id a step deleted and the server handed out again (max+1 numbering) is a new resource.
    if (known) known.deletedByStep = false;
    else tracked.push(id === undefined || id === '' ? { type: creates } : { type: creates, id });
  }
  if (step.deletes && (ok || response.status === 404)) {
    // By type and id: many servers number users and groups apart, so both may be `1`. Kept on the
    // list: a server that answers a DELETE and keeps the resource (deactivates it) was reported
    // as cleaned up while the resources stayed.
    const id = vars[step.deletes];
    const type = typeOfPath(step.path);
    const item = tracked.find((t) => t.id === id && (type === undefined || t.type === type));
    if (item) item.deletedByStep = true;
  }
  if (step.discovers && ok) {
    const spc = serviceProviderConfigShape.safeParse(response.body);
    if (spc.success) {
      features.set('patch', spc.data.patch.supported);
      features.set('filter', spc.data.filter.supported);
      features.set('bulk', spc.data.bulk.supported);
      features.set('sort', spc.data.sort.supported);
      features.set('etag', spc.data.etag.supported);
    }
  }
}

/** Groups first (deleting a user first would make the server rewrite each group's members). */
async function removeTracked(
  client: ScimHttpClient,
  tracked: readonly Tracked[],
  keep: boolean,
): Promise<CleanupResult> {
  const named = tracked.filter((t): t is Tracked & { id: string } => t.id !== undefined);
  const unnamed = tracked.length - named.length;
  const listed = ({ type, id }: { type: string; id: string }) => ({ type, id });
  if (keep) {
    return {
      kept: true,
      deleted: 0,
      failures: [],
      remaining: named.filter((t) => !t.deletedByStep).map(listed),
      unnamed,
    };
  }
  const order = [...named.filter((t) => t.type === 'Group'), ...named.filter((t) => t.type === 'User')];
  const failures: { type: string; id: string; detail: string }[] = [];
  let deleted = 0;
  // Requests in a row without an answer in time: past SILENT_STEPS_TO_STOP, the server has stopped
  // answering, and the rest are listed rather than each waiting out its timeout.
  let silent = 0;
  const heard = (exchange: Exchange) => {
    silent = timedOut(exchange) ? silent + 1 : 0;
    return exchange;
  };
  for (const item of order) {
    if (silent >= SILENT_STEPS_TO_STOP) {
      failures.push({ ...listed(item), detail: 'not tried: the server has stopped answering' });
      continue;
    }
    if (item.id === '.' || item.id === '..') {
      // A dot segment names the collection or the base URL, whatever escapes it: no DELETE of that.
      failures.push({ ...listed(item), detail: 'its id can be in no URL path' });
      continue;
    }
    const path = `/${item.type === 'User' ? 'Users' : 'Groups'}/${encodeURIComponent(item.id)}`;
    let said = 'its step deleted it';
    if (!item.deletedByStep) {
      let exchange = heard(await client.send({ method: 'DELETE', path }));
      if (exchange.response?.status === 412) {
        // A server that requires If-Match (scimdesk's requireIfMatch) refuses a DELETE without
        // one, and everything check made was left behind (export probe, session 40): `*` matches
        // whatever version the resource is at (RFC 9110 §13.1.1).
        exchange = heard(await client.send({ method: 'DELETE', path, headers: { 'If-Match': '*' } }));
      }
      const status = exchange.response?.status;
      if (status === 404) {
        deleted += 1;
        continue;
      }
      if (status === undefined || status < 200 || status >= 300) {
        failures.push({
          ...listed(item),
          detail:
            status === undefined
              ? (exchange.error ?? 'no answer')
              : `status ${status}${errorDetail(exchange.response?.body)}`,
        });
        continue;
      }
      said = `DELETE answered ${status}`;
    }
    // A GET that still finds it says the DELETE was not done: a server in a deactivating mode
    // answers DELETE and keeps the user. Any other answer leaves the DELETE's word standing.
    const after = heard(await client.send({ method: 'GET', path })).response?.status;
    if (after !== undefined && after >= 200 && after < 300) {
      failures.push({ ...listed(item), detail: `${said}, yet GET still answers ${after}: the server kept it` });
    } else deleted += 1;
  }
  return {
    kept: false,
    deleted,
    failures,
    remaining: failures.map(({ type, id }) => ({ type, id })),
    unnamed,
  };
}

export function summarize(results: readonly StepResult[]): Summary {
  const count = (verdict: Verdict) => results.filter((r) => r.verdict === verdict).length;
  // A required step that could not run (its input failed earlier) has not passed either.
  const requiredNotPassed = results.some(
    (r) => r.level === 'required' && (r.verdict === 'fail' || r.verdict === 'skipped') && !skippedByServerChoice(r),
  );
  return {
    total: results.length,
    passed: count('pass'),
    failed: count('fail'),
    warnings: count('warning'),
    skipped: count('skipped'),
    ok: !requiredNotPassed,
  };
}

/** Skipping what the server says it does not offer (PATCH, filters) is not a failure. */
function skippedByServerChoice(result: StepResult): boolean {
  return result.verdict === 'skipped' && (result.skippedReason ?? '').startsWith("the server's ServiceProviderConfig");
}
