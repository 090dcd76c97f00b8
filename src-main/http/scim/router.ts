/**
 * The SCIM endpoints (RFC 7644 §3), mounted on both base paths: `/scim/v2` (tenant from the token)
 * and `/api/v1/tenants/:tenantId/scim/v2` (tenant in the path). Routes only translate HTTP to the
 * identity service and back; every rule lives in the service and the SCIM core.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { IgnoredTarget } from '@shared/request-log';
import type { SchemaRegistry } from '@shared/scim/registry';
import { SCIM_CONTENT_TYPE } from '@shared/scim/urns';
import type { AdminTokens } from '../../auth/admin-tokens';
import {
  checkBulkPayloadSize,
  DEFAULT_BULK_LIMITS,
  parseBulkRequest,
  planBulk,
  resolveBulkIds,
  startBulk,
  type BulkOutcome,
  type BulkRun,
  type BulkStep,
  type Circle,
} from '../../scim/bulk/index';
import type { CaptureState } from '../capture';
import { ScimError } from '../../scim/errors';
import { keysNamed } from '../../scim/values';
import { MAX_PATCH_LIST_VALUES, PatchListBudget } from '../../scim/patch/engine';
import { parseSearchRequest, type SearchRequest } from '../../scim/search-request';
import { csvColumns, csvHeader, csvRow, projectedColumns, withPrimaryForOrder } from '../../scim/export-csv';
import { compileProjection } from '../../scim/projection';
import type { ResourceKind } from '@shared/scim/index-keys';
import {
  checkDiscoveryQuery,
  resourceTypeDocumentByName,
  resourceTypesList,
  schemaDocumentByUrn,
  schemasList,
} from '../../scim/schema-documents';
import { serviceProviderConfig, type ServerCapabilities } from '../../scim/service-provider-config';
import type {
  AnswerRequest,
  IdentityService,
  ResourceAnswer,
  ScimRequestContext,
  WriteAnswer,
  WriteOptions,
  WritesTogether,
} from '../../services/identities/identity-service';
import { etagMatches } from '../../services/identities/kinds';
import type { ScimTokenService } from '../../services/scim-tokens';
import type { Logger } from '../../services/admin-dispatch';
import type { DurableStore } from '../../store/durable-store';
import { isTokenBasePath, TENANT_SCIM_BASE, TOKEN_SCIM_BASE } from '../areas';
import { isServerFault, toScimError } from '../error-middleware';
import { noteServerFault } from '../server-faults';
import { sendStreamed, stoppedByDesign, type StreamedAnswer } from '../streamed-answer';
import { scimAuth, type ScimCaller, type ScimState } from './auth';
import { readScimBody, sendScim } from './body';
import { sendPageStreamed, sendResourceStreamed } from './streamed-page';
import { DEFAULT_BODY_LIMIT, refuseBodyUnread } from '../json-body';
import { publicOrigin } from '../public-origin';
import { durableBeforeSending, isAnswerDecidedByOwnWrite, noteAnswerDecidedByOwnWrite } from '../durable-answers';

export interface ScimRouterDeps {
  capabilities: ServerCapabilities;
  registry: SchemaRegistry;
  identities: IdentityService;
  scimTokens: ScimTokenService;
  adminTokens: AdminTokens;
  store: DurableStore;
  log: Logger;
}

const ENDPOINTS: [string, ResourceKind][] = [
  ['/Users', 'User'],
  ['/Groups', 'Group'],
];

function caller(ctx: Context): ScimCaller {
  const scim = (ctx.state as ScimState).scim;
  if (!scim) throw new Error('SCIM route reached without authentication');
  return scim;
}

function baseUrlOf(ctx: Context): string {
  const tenant = (ctx.params as { tenantId?: string }).tenantId;
  return `${publicOrigin(ctx)}${tenant ? `/api/v1/tenants/${encodeURIComponent(tenant)}` : ''}/scim/v2`;
}

/** The preconditions a PUT, PATCH or DELETE is held to (RFC 7644 §3.14, RFC 9110 §13.1). */
function conditions(ctx: Context): WriteOptions {
  return { ifMatch: ctx.get('If-Match') || undefined, ifNoneMatch: ctx.get('If-None-Match') || undefined };
}

/**
 * A GET or HEAD of one resource against its preconditions, in RFC 9110 §13.2.2's order: an If-Match
 * naming none of its tags is 412 (a GET is held to it as a write is, §13.1.1), then an
 * If-None-Match naming it means the reader's copy is current (true: answer 304). Both compare the
 * representation's tag, since a GET hands over the representation, derived values included.
 */
function unchangedForReader(ctx: Context, version: string): boolean {
  const ifMatch = ctx.get('If-Match');
  if (ifMatch && !etagMatches(ifMatch, version)) {
    throw new ScimError(412, `The resource has changed: its version is ${version}.`);
  }
  const ifNoneMatch = ctx.get('If-None-Match');
  return ifNoneMatch !== '' && etagMatches(ifNoneMatch, version);
}

/**
 * A query parameter as the core wants it, one string, its name matched in any case: the parameters are the SearchRequest's
 * attributes (RFC 7644 §3.4.3), whose names are case-insensitive (RFC 7643 §2.1), so `?Filter=`
 * filters as a `.search` body's "Filter" does instead of being ignored (an answer with everything).
 */
function queryText(ctx: Context, name: string): string | undefined {
  const spellings = keysNamed(ctx.query, name);
  if (spellings.length === 0) return undefined;
  const value = ctx.query[spellings[0] as string];
  if (spellings.length > 1 || Array.isArray(value)) {
    const given = spellings.length > 1 ? ` (it came as ${spellings.join(' and ')})` : '';
    throw ScimError.badRequest('invalidValue', `${name} may be given once${given}.`);
  }
  return value;
}

/**
 * A Bulk request is answered 200 whatever its operations did (RFC 7644 §3.7.3): what failed inside
 * it is told to the request log, or a Bulk whose every operation failed would look error-free there.
 */
/** How many failed operations the log's message of a Bulk request names by number. */
const LISTED_BULK_FAILURES = 50;

function bulkFailures(run: BulkRun): { message: string; code?: string } | undefined {
  // Numbered as in the request, as bulkStepName names them: a large answer is cut in the log, and
  // the numbers are then the only way to find which operations failed.
  const failed = run.failures();
  const first = failed[0];
  if (first === undefined) return undefined;
  const answer = (first.result.response ?? {}) as { detail?: unknown; scimType?: unknown };
  const detail = typeof answer.detail === 'string' ? ` ${answer.detail}` : '';
  const numbers = failed.map((failure) => failure.number);
  const listed = numbers.slice(0, LISTED_BULK_FAILURES).join(', ');
  const more = numbers.length > LISTED_BULK_FAILURES ? ` and ${numbers.length - LISTED_BULK_FAILURES} more` : '';
  const total = run.plan.request.operations.length;
  const message =
    `${numbers.length} of ${total} Bulk operations failed (${numbers.length === 1 ? 'operation' : 'operations'} ${listed}${more}); ` +
    `the first, operation ${first.number} (${first.result.method ?? 'no method'}), answered ${first.result.status}:${detail}`;
  return typeof answer.scimType === 'string' ? { message, code: answer.scimType } : { message };
}

/** A Bulk step as the request log names it: its operation's place in the request, and what it did. */
function bulkStepName(step: BulkStep): string {
  const role = step.role === 'operation' ? '' : ` (its ${step.role} step)`;
  return `operation ${step.operation.index + 1} (${step.method} ${step.operation.path})${role}`;
}

function listQuery(ctx: Context) {
  return {
    filter: queryText(ctx, 'filter'),
    startIndex: queryText(ctx, 'startIndex'),
    count: queryText(ctx, 'count'),
    sortBy: queryText(ctx, 'sortBy'),
    sortOrder: queryText(ctx, 'sortOrder'),
    attributes: queryText(ctx, 'attributes'),
    excludedAttributes: queryText(ctx, 'excludedAttributes'),
  };
}

function projection(ctx: Context) {
  return { attributes: queryText(ctx, 'attributes'), excludedAttributes: queryText(ctx, 'excludedAttributes') };
}

/**
 * A `.search` reads its parameters from its body (RFC 7644 §3.4.3). Given in its URL they were
 * ignored, and `POST /Users/.search?filter=…` answered with every user: refused, naming them.
 */
function refuseListQuery(ctx: Context): void {
  refuseFormat(ctx, 'a POST .search');
  const given = LIST_PARAMETERS.flatMap((name) => keysNamed(ctx.query, name));
  if (given.length === 0) return;
  throw ScimError.badRequest(
    'invalidValue',
    `A POST .search takes its parameters in its body (a SearchRequest, RFC 7644 §3.4.3), not in the URL: move ${given.join(', ')} into the body.`,
  );
}

/**
 * An export is a GET of one resource type (`exportFormat`). Elsewhere `format` was ignored, and a
 * client that asked for CSV got a ListResponse and no word why.
 */
function refuseFormat(ctx: Context, where: string, answers = 'a ListResponse'): void {
  if (keysNamed(ctx.query, 'format').length === 0) return;
  throw ScimError.badRequest(
    'invalidValue',
    `format is taken by GET /Users and GET /Groups (an export), not by ${where}, which answers ${answers}.`,
  );
}

const LIST_PARAMETERS = ['filter', 'startIndex', 'count', 'sortBy', 'sortOrder', 'attributes', 'excludedAttributes'];

/** What `.search` takes (RFC 7644 §3.4.3), for its Allow header. */
const SEARCH_METHODS = 'POST';

/**
 * `.search` takes POST only (RFC 7644 §3.4.3): another method on it is a 405, not a lookup of a
 * resource whose id is ".search" (a 404).
 */
function notSearch(ctx: Context, next: Next): unknown {
  // Routes match case-insensitively, so POST takes `/Users/.SEARCH` as a search too.
  if (ctx.params.id?.toLowerCase() !== '.search') return next();
  ctx.set('Allow', SEARCH_METHODS);
  ctx.status = 405;
  return undefined;
}

/**
 * OPTIONS on `.search` answers as the router's own OPTIONS does, with the Allow its 405s carry: the
 * router would name the `/:id` routes' methods too, which notSearch refuses there.
 */
function searchOptions(ctx: Context): void {
  ctx.set('Allow', SEARCH_METHODS);
  ctx.status = 200;
  ctx.body = '';
}

function resourceRoutes(deps: ScimRouterDeps): Router {
  const router = new Router({ strict: false });
  const { identities } = deps;
  /** The request's projection, a large group's members to come in slices (see ResourceAnswer). */
  const inSlices = (ctx: Context): AnswerRequest => ({ ...projection(ctx), membersInSlices: true });
  /** A resource answered whole, or streamed where its members came in slices. */
  const sendAnswer = (ctx: Context, status: number, answer: ResourceAnswer) => {
    if (answer.members === undefined) sendScim(ctx, status, answer.resource, answer.version);
    else {
      const reader = isAnswerDecidedByOwnWrite(ctx) ? undefined : caller(ctx);
      sendResourceStreamed(ctx, status, answer, reader, deps.log, durableBeforeSending(ctx, deps.store));
    }
  };
  /** The request's body, read under the caller's tenant's flags (`contentTypeOptional`). */
  const bodyOf = (ctx: Context, limit?: number) => readScimBody(ctx, identities.compatOf(caller(ctx)), limit);
  /**
   * A write's body, whose syntax is told after the resource's preconditions as every other problem
   * with the body is (RFC 9110 §13.2.1): a stale If-Match or a gone id is what the client must learn
   * first. A body over its limit is still told at once: it is about the message, not the resource.
   */
  const writeBodyOf = async (ctx: Context, method: 'PUT' | 'PATCH', kind: ResourceKind) => {
    try {
      return await bodyOf(ctx);
    } catch (error) {
      if (error instanceof ScimError && error.status === 400) {
        identities.checkPreconditions(method, kind, ctx.params.id ?? '', caller(ctx), conditions(ctx));
      }
      throw error;
    }
  };

  // Discovery (RFC 7644 §4) describes the server, not a tenant: answered without credentials.
  router.get('/ServiceProviderConfig', (ctx) => {
    checkDiscoveryQuery({ filter: queryText(ctx, 'filter') });
    sendScim(ctx, 200, serviceProviderConfig(deps.capabilities, `${baseUrlOf(ctx)}/ServiceProviderConfig`));
  });
  router.get('/Schemas', (ctx) => {
    checkDiscoveryQuery({ filter: queryText(ctx, 'filter') });
    sendScim(ctx, 200, schemasList(deps.registry, baseUrlOf(ctx)));
  });
  router.get('/Schemas/:urn', (ctx) => {
    checkDiscoveryQuery({ filter: queryText(ctx, 'filter') });
    sendScim(ctx, 200, schemaDocumentByUrn(deps.registry, ctx.params.urn ?? '', baseUrlOf(ctx)));
  });
  router.get('/ResourceTypes', (ctx) => {
    checkDiscoveryQuery({ filter: queryText(ctx, 'filter') });
    sendScim(ctx, 200, resourceTypesList(deps.registry, baseUrlOf(ctx)));
  });
  router.get('/ResourceTypes/:name', (ctx) => {
    checkDiscoveryQuery({ filter: queryText(ctx, 'filter') });
    sendScim(ctx, 200, resourceTypeDocumentByName(deps.registry, ctx.params.name ?? '', baseUrlOf(ctx)));
  });

  const auth = scimAuth(deps);
  router.all('/Me', auth, () => {
    throw new ScimError(501, '/Me is not supported: scimdesk tokens act for an IdP, not for a user.');
  });
  router.post('/Bulk', auth, async (ctx) => {
    const limits = deps.capabilities.bulk.supported ? deps.capabilities.bulk : DEFAULT_BULK_LIMITS;
    // RFC 7644 §3.7.4: refuse an oversize bulk before reading it, when its length is declared.
    const declared = Number(ctx.get('Content-Length'));
    if (Number.isFinite(declared) && declared > limits.maxPayloadSize) {
      await refuseBodyUnread(ctx);
      checkBulkPayloadSize(declared, limits); // throws RFC 7644 §3.7.4's 413
    }
    const body = await bodyOf(ctx, limits.maxPayloadSize);
    // One budget of PATCH list work for the whole request (see PatchListBudget).
    const scim = {
      ...caller(ctx),
      patchBudget: new PatchListBudget(MAX_PATCH_LIST_VALUES, 'Bulk request'),
      hashInTurn: true,
    };
    const request = parseBulkRequest(body, {
      resourceTypes: deps.registry.resourceTypes,
      compat: identities.compatOf(scim),
      limits,
    });
    const run = startBulk(planBulk(request), { baseUrl: scim.baseUrl });
    const steps = run.steps();
    let answerBytes = 0;
    for (let next = steps.next(); !next.done;) {
      const step = next.value;
      const circle = run.plan.circles.get(step.operation.index);
      if (circle) {
        next = await runCircleTogether({ ctx, identities, log: deps.log, run, steps, first: step, circle, scim });
        continue;
      }
      try {
        // Checked before every step, GETs included (the writes check again in their transaction).
        scim.stillAuthorized?.();
        // Nobody will read the answer: a client that went away (or a connection cut at the end
        // of a shutdown's grace) must not go on changing the tenant for seconds.
        if (ctx.req.socket.destroyed) throw notRunAfterConnectionClosed();
        const outcome = await executeBulkStep(identities, step, scim);
        // A GET's resource goes into the answer whole: 400 GETs of one large user in a 40 KB
        // request made an answer too large for a string and held the thread for seconds.
        if (outcome.response !== undefined) {
          answerBytes += JSON.stringify(outcome.response).length;
          if (answerBytes > MAX_BULK_ANSWER_CHARS) throw bulkAnswerTooLarge();
        }
        run.succeed(step, outcome);
      } catch (error) {
        if (isServerFault(error)) noteServerFault(ctx, error, bulkStepName(step));
        run.fail(step, toScimError(error, deps.log, scim));
      }
      next = steps.next();
    }
    const response = run.response();
    (ctx.state as CaptureState).partialFailure = bulkFailures(run);
    sendScim(ctx, 200, response);
  });
  // RFC 7644 §3.4.3: a search at the root covers every resource type; §3.4.2.1 allows the same query
  // as a GET on the root. One service call for both, as `/Users` and `/Users/.search` share one.
  /** A list, at its turn when it may hold the thread long (see IdentityService.listTurn). */
  const listed = async (ctx: Context, kinds: readonly ResourceKind[], query: SearchRequest) => {
    const scim = caller(ctx);
    const { manyMembers } = await identities.listTurn(kinds, query, scim);
    // A turn may come after the token was revoked: a revocation takes effect at once.
    scim.stillAuthorized?.();
    if (manyMembers)
      sendPageStreamed(ctx, identities.page(kinds, query, scim), scim, deps.log, () => deps.store.settled());
    else sendScim(ctx, 200, identities.search(kinds, query, scim));
  };
  const searchRequest = async (ctx: Context) => {
    refuseListQuery(ctx);
    return parseSearchRequest(await bodyOf(ctx), identities.compatOf(caller(ctx)));
  };
  const EVERY_KIND: readonly ResourceKind[] = ['User', 'Group'];
  router.post('/.search', auth, async (ctx) => listed(ctx, EVERY_KIND, await searchRequest(ctx)));
  router.get('/', auth, (ctx) => {
    refuseFormat(ctx, 'the root query');
    return listed(ctx, EVERY_KIND, listQuery(ctx));
  });

  for (const [path, kind] of ENDPOINTS) {
    router.get(path, auth, (ctx) => {
      const format = exportFormat(ctx);
      if (format) return sendExport(ctx, format, kind, deps);
      return listed(ctx, [kind], listQuery(ctx));
    });
    router.options(`${path}/.search`, searchOptions);
    router.post(`${path}/.search`, auth, async (ctx) => listed(ctx, [kind], await searchRequest(ctx)));
    router.post(path, auth, async (ctx) => {
      const created = await identities.create(kind, await bodyOf(ctx), caller(ctx), inSlices(ctx));
      noteAnswerDecidedByOwnWrite(ctx);
      ctx.set('Location', created.location);
      sendAnswer(ctx, 201, created);
    });
    router.get(`${path}/:id`, notSearch, auth, (ctx) => {
      refuseFormat(ctx, `GET ${path}/{id}`, `the ${kind} as JSON`);
      const id = ctx.params.id ?? '';
      const answer = identities.read(kind, id, caller(ctx), inSlices(ctx));
      if (unchangedForReader(ctx, answer.version)) {
        ctx.status = 304;
        ctx.set('ETag', answer.version);
        return;
      }
      sendAnswer(ctx, 200, answer);
    });
    router.put(`${path}/:id`, notSearch, auth, async (ctx) => {
      const body = await writeBodyOf(ctx, 'PUT', kind);
      const replaced = await identities.replace(
        kind,
        ctx.params.id ?? '',
        body,
        caller(ctx),
        conditions(ctx),
        inSlices(ctx),
      );
      noteAnswerDecidedByOwnWrite(ctx);
      ctx.set('Location', replaced.location); // RFC 7644 §3.5.1's example answers with it
      sendAnswer(ctx, 200, replaced);
    });
    router.patch(`${path}/:id`, notSearch, auth, async (ctx) => {
      const body = await writeBodyOf(ctx, 'PATCH', kind);
      const patched = await identities.patch(
        kind,
        ctx.params.id ?? '',
        body,
        caller(ctx),
        conditions(ctx),
        inSlices(ctx),
      );
      noteAnswerDecidedByOwnWrite(ctx);
      ctx.set('Location', patched.location);
      sendAnswer(ctx, 200, patched);
    });
    router.delete(`${path}/:id`, notSearch, auth, async (ctx) => {
      const { version } = await identities.delete(kind, ctx.params.id ?? '', caller(ctx), conditions(ctx));
      noteAnswerDecidedByOwnWrite(ctx);
      ctx.status = 204;
      // A deactivated user is still there, with a new version (see IdentityService.delete).
      if (version) ctx.set('ETag', version);
    });
  }
  return router;
}

/**
 * Seed 003's export: the whole filtered list as a stream, `format=ndjson|csv` or
 * `Accept: application/x-ndjson` / `text/csv`. Not paged: sorted by id, pulled one resource at a
 * time as the client reads, so 100,000 users stream in constant memory.
 */
function exportFormat(ctx: Context): 'ndjson' | 'csv' | undefined {
  const format = queryText(ctx, 'format');
  if (format !== undefined) {
    if (format === 'ndjson' || format === 'csv') return format;
    throw ScimError.badRequest('invalidValue', `format must be "ndjson" or "csv", not "${format}".`);
  }
  // The list's answer depends on Accept: caches must tell them apart.
  ctx.vary('Accept');
  if (!ctx.get('Accept')) return undefined;
  // Negotiated with the q-values (`text/csv;q=0` is "not CSV"); a tie goes to the SCIM answer.
  // (ctx.accepts breaks a tie by the client's order, so `text/csv, application/scim+json` streamed
  // the whole unpaged export to a client that accepts a ListResponse as well.)
  const ranges = acceptRanges(ctx.get('Accept'));
  const scim = Math.max(qualityOf(SCIM_CONTENT_TYPE, ranges), qualityOf('application/json', ranges));
  const ndjson = qualityOf('application/x-ndjson', ranges);
  const csv = qualityOf('text/csv', ranges);
  if (Math.max(ndjson, csv) <= scim) return undefined;
  return ndjson >= csv ? 'ndjson' : 'csv';
}

/** The media ranges of an Accept header with their q-values (RFC 9110 §12.5.1). */
function acceptRanges(header: string): { type: string; q: number }[] {
  return header.split(',').flatMap((part) => {
    const [range = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    if (!/^[^/\s]+\/[^/\s]+$/.test(range)) return [];
    const qParam = params.find((param) => /^q\s*=/.test(param));
    const q = qParam === undefined ? 1 : Number(qParam.replace(/^q\s*=\s*/, ''));
    return Number.isFinite(q) && q >= 0 && q <= 1 ? [{ type: range, q }] : [];
  });
}

// The q-value the most specific matching range gives `type` (exact, then `type/*`, then `*/*`); 0 if none.
function qualityOf(type: string, ranges: readonly { type: string; q: number }[]): number {
  const major = type.split('/')[0]!;
  for (const candidate of [type, `${major}/*`, '*/*']) {
    const matching = ranges.filter((range) => range.type === candidate);
    if (matching.length > 0) return Math.max(...matching.map((range) => range.q));
  }
  return 0;
}

/** A list's parameters that an export has no use for: it streams every match, in id order. */
const NOT_FOR_EXPORT = ['startIndex', 'count', 'sortBy', 'sortOrder'];

function sendExport(ctx: Context, format: 'ndjson' | 'csv', kind: ResourceKind, deps: ScimRouterDeps): void {
  // Ignored, `count=10` exported every user while its reader expected ten.
  const given = NOT_FOR_EXPORT.filter((name) => keysNamed(ctx.query, name).length > 0);
  if (given.length > 0) {
    throw ScimError.badRequest(
      'invalidValue',
      `An export (${format}) streams every match in id order, so ${given.join(', ')} ${given.length === 1 ? 'does' : 'do'} ` +
        'not apply: leave ' +
        (given.length === 1 ? 'it' : 'them') +
        ' out, or ask for a page as SCIM JSON.',
    );
  }
  const schema = deps.identities.schemaOf(kind);
  const asked = projection(ctx);
  const query = {
    filter: queryText(ctx, 'filter'),
    ...asked,
    ...(format === 'csv' ? { attributes: withPrimaryForOrder(schema, asked.attributes) } : {}),
  };
  const resources = deps.identities.exportResources(kind, query, caller(ctx));
  // Pull the first resource now, so a bad filter is still an ordinary 400 and not a cut stream.
  const first = resources.next();
  // Only the columns the request's `attributes`/`excludedAttributes` keep.
  const columns =
    format === 'csv' ? projectedColumns(csvColumns(schema), schema, compileProjection(schema, query)) : [];
  function* lines(answer: StreamedAnswer): Generator<string> {
    if (format === 'csv') yield csvHeader(columns);
    for (let item = first; !item.done; item = resources.next()) {
      answer.records += 1;
      yield format === 'csv' ? csvRow(columns, item.value) : `${JSON.stringify(item.value)}\n`;
    }
  }
  // The log keeps the export's size and how it ended, not its resources (they are in the store).
  (ctx.state as { captureBodies?: boolean }).captureBodies = false;
  ctx.status = 200;
  ctx.type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
  // Both a file to save, named alike (NDJSON had no name: a browser saved it as "Users").
  ctx.set('Content-Disposition', `attachment; filename="${kind.toLowerCase()}s.${format}"`);
  sendStreamed(
    ctx,
    lines,
    (error) =>
      stoppedByDesign(error)
        ? deps.log.info(`SCIM export stopped after its answer began: ${error.message}`)
        : deps.log.error('SCIM export failed after its answer began:', error),
    () => deps.store.settled(),
  );
}

/** How much of its resources' JSON a Bulk answer may carry (GET operations), in characters. */
const MAX_BULK_ANSWER_CHARS = 32 * 1024 * 1024;

function notRunAfterConnectionClosed(): ScimError {
  return new ScimError(
    503,
    'Not run: the connection closed before this operation (the client went away, or the server was stopping).',
  );
}

function bulkAnswerTooLarge(): ScimError {
  return ScimError.badRequest(
    'tooMany',
    `The Bulk answer would carry more than ${MAX_BULK_ANSWER_CHARS / 1024 / 1024} MiB of resources; GET the rest in another request.`,
  );
}

/**
 * An operation's data may be no larger than the body of the same request made alone: a user let in
 * through a 4 MiB Bulk but over the 1 MiB a PUT may carry could never be restated by PUT.
 */
function checkOperationSize(step: BulkStep): void {
  if (step.data === undefined) return;
  const text = JSON.stringify(step.data);
  // UTF-8 takes at most three bytes per UTF-16 unit: most data needs no byte count at all.
  if (text.length * 3 <= DEFAULT_BODY_LIMIT) return;
  const bytes = Buffer.byteLength(text);
  if (bytes <= DEFAULT_BODY_LIMIT) return;
  throw new ScimError(
    413,
    `This operation's data (${bytes.toLocaleString('en-US')} bytes) exceeds the limit of ` +
      `${DEFAULT_BODY_LIMIT.toLocaleString('en-US')} bytes of one ${step.method}, in a Bulk request as on its own.`,
  );
}

/**
 * Runs one Bulk step through the same service calls as the single-resource routes. What its body
 * named but the server left alone goes into the request's `ignored` list under the operation's
 * number: in a request of hundreds, "emails.foo" alone does not say which operation sent it. The
 * flags it fired are its own (the history records them with its version) and the request's too (the
 * request log names them all): with one context for every step, each version carried every flag
 * fired before it in the request.
 */
async function executeBulkStep(
  identities: IdentityService,
  step: BulkStep,
  scim: ScimRequestContext,
): Promise<BulkOutcome> {
  const { ctx, done } = stepContext(identities, step, scim);
  try {
    return await runBulkStep(identities, step, ctx);
  } finally {
    done();
  }
}

/** A step's own context (its flags and what it ignored), and how it is handed back to the request's. */
function stepContext(
  identities: IdentityService,
  step: BulkStep,
  scim: ScimRequestContext,
): { ctx: ScimRequestContext; done: () => void } {
  const ignored: IgnoredTarget[] = [];
  const requestCompat = identities.compatOf(scim);
  const compat = requestCompat.fresh();
  return {
    ctx: { ...scim, ignored, compat },
    done: () => {
      requestCompat.absorb(compat);
      const name = bulkStepName(step);
      for (const { target, reason } of ignored) scim.ignored?.push({ target: `${name}: ${target}`, reason });
    },
  };
}

const describeWrite = ({ resource, location, version }: WriteAnswer) => ({
  id: String(resource.id),
  location,
  version,
});

async function runBulkStep(
  identities: IdentityService,
  step: BulkStep,
  scim: ScimRequestContext,
): Promise<BulkOutcome> {
  const kind = step.resourceType as ResourceKind;
  const id = step.id ?? '';
  const options = { ifMatch: step.version };
  checkOperationSize(step);
  switch (step.method) {
    case 'POST':
      return { status: 201, ...describeWrite(await identities.create(kind, step.data, scim)) };
    case 'PUT':
      return { status: 200, ...describeWrite(await identities.replace(kind, id, step.data, scim, options)) };
    case 'PATCH':
      return { status: 200, ...describeWrite(await identities.patch(kind, id, step.data, scim, options)) };
    case 'DELETE':
      return { status: 204, id, ...(await identities.delete(kind, id, scim, options)) };
    case 'GET': {
      const resource = identities.get(kind, id, scim);
      const meta = resource.meta as { location: string; version: string };
      return {
        status: 200,
        id: String(resource.id),
        location: meta.location,
        version: meta.version,
        response: resource,
      };
    }
  }
}

/** Thrown to take a failed circle's transaction back whole (its undo steps are not run). */
const CIRCLE_TAKEN_BACK = Symbol('circle taken back');

/**
 * Runs a Bulk circle (scim/bulk/circles.ts): its POSTs, then the PATCHes that add what they
 * deferred, in one transaction (IdentityService.writeTogether), so no other request sees, uses or
 * changes its resources before it is whole, and a crash keeps all of it or none. Run as
 * transactions of their own, a failed circle's undo took back a resource other clients had read,
 * been refused the userName of, or changed meanwhile (concurrency probe). When a step fails, the
 * circle's undo steps are settled without running and the transaction is taken back instead.
 * Answers the step after the circle, which `steps` yielded and the caller is to run.
 */
async function runCircleTogether(args: {
  ctx: Context;
  identities: IdentityService;
  log: Logger;
  run: BulkRun;
  steps: Generator<BulkStep, void, void>;
  first: BulkStep;
  circle: Circle;
  scim: ScimRequestContext;
}): Promise<IteratorResult<BulkStep, void>> {
  const { ctx, identities, log, run, steps, first, circle, scim } = args;
  let after: IteratorResult<BulkStep, void> | undefined;
  /** Settles the circle's steps as `steps` yields them, up to the first step past it; whether one failed. */
  const drive = (refusal: unknown, writes?: WritesTogether): boolean => {
    let failed = false;
    for (let step = first; ;) {
      if (step.role === 'undo') {
        // Yielded only once the circle failed, by a step or by a refusal of BulkRun's own (a member
        // whose reference outside the circle is unresolved), which no step here saw: either way,
        // the transaction is taken back (review: a refused member left the groups before it saved).
        failed = true;
        run.succeed(step, { status: 204 });
      } else {
        try {
          if (refusal !== undefined || !writes) throw refusal;
          run.succeed(step, executeTogether(identities, writes, step, scim));
        } catch (error) {
          if (isServerFault(error)) noteServerFault(ctx, error, bulkStepName(step));
          failed = true;
          run.fail(step, toScimError(error, log, scim));
        }
      }
      const next = steps.next();
      if (next.done || run.plan.circles.get(next.value.operation.index) !== circle) {
        after = next;
        return failed;
      }
      step = next.value;
    }
  };
  // Their passwords are hashed from the bodies as far as they can be resolved before the
  // transaction (references outside the circle are, by now).
  const creates = new Map(
    circle.members.map((op) => [
      op.index,
      {
        kind: op.resourceType as ResourceKind,
        body: resolveBulkIds(circle.deferrals.get(op.index)?.data ?? op.data, run.resolvedIds, 'resource'),
      },
    ]),
  );
  let driven = false;
  try {
    await identities.writeTogether(scim, creates, (writes) => {
      driven = true;
      let refusal: unknown;
      try {
        // In the transaction, as a single write checks it: a revocation takes effect at once.
        scim.stillAuthorized?.();
        if (ctx.req.socket.destroyed) throw notRunAfterConnectionClosed();
      } catch (error) {
        refusal = error;
      }
      if (drive(refusal, writes)) throw CIRCLE_TAKEN_BACK;
    });
  } catch (error) {
    if (error === CIRCLE_TAKEN_BACK) return after as IteratorResult<BulkStep, void>;
    // Refused before it ran (the tenant went): nothing was written, each step fails.
    if (!driven) drive(error);
    // Run whole, then not saved (the journal failed): its members were answered 201 too soon.
    else if (after !== undefined) run.failCircle(circle, toScimError(error, log, scim));
    else throw error;
  }
  return after as IteratorResult<BulkStep, void>;
}

/** A circle's POST or link PATCH, in the circle's transaction. */
function executeTogether(
  identities: IdentityService,
  writes: WritesTogether,
  step: BulkStep,
  scim: ScimRequestContext,
): BulkOutcome {
  const { ctx, done } = stepContext(identities, step, scim);
  try {
    const kind = step.resourceType as ResourceKind;
    if (step.role === 'operation') {
      checkOperationSize(step);
      return { status: 201, ...describeWrite(writes.create(kind, step.data, ctx, step.operation.index)) };
    }
    // The link: on a resource the request itself just made, so no If-Match is asked of it.
    return { status: 200, ...describeWrite(writes.patch(kind, step.id ?? '', step.data, ctx, { followUp: true })) };
  } finally {
    done();
  }
}

/** The SCIM routes under each base path: one router each, `token` for `/scim/v2`. */
export function createScimRouters(deps: ScimRouterDeps): { token: Router; tenant: Router } {
  const routes = resourceRoutes(deps);
  const [token, tenant] = [TOKEN_SCIM_BASE, TENANT_SCIM_BASE].map((base) => {
    const root = new Router();
    root.use(base, routes.routes(), routes.allowedMethods());
    return root;
  }) as [Router, Router];
  return { token, tenant };
}

/**
 * The SCIM area's middleware. A router tests a request against every route it has, so each base
 * path has its own and a request meets only the routes of the base it came in on (half of them).
 */
export function scimRoutes(deps: ScimRouterDeps) {
  const { token, tenant } = createScimRouters(deps);
  const chain = (router: Router) => {
    const allowed = router.allowedMethods();
    const routes = router.routes();
    return async (ctx: Parameters<typeof allowed>[0] & Parameters<typeof routes>[0], next: Next) => {
      await allowed(ctx, () => routes(ctx, next));
      // A method no route has (PROPFIND) is a 501 whose Allow the router fills with the `/:id`
      // routes' methods too: `.search` says what its 405s and OPTIONS say (notSearch).
      if (ctx.status === 501 && /\/\.search$/i.test(ctx.path)) ctx.set('Allow', SEARCH_METHODS);
    };
  };
  const [byToken, byTenant] = [chain(token), chain(tenant)];
  return (ctx: Parameters<typeof byToken>[0], next: Next) => {
    // A base URL pasted with a trailing slash (`…/scim/v2/`, as Microsoft's own examples write it)
    // becomes `…/scim/v2//Users` in a client that appends `/Users`: routed as the one path it means.
    // The request log keeps the path as sent.
    if (ctx.path.includes('//')) ctx.path = ctx.path.replace(/\/{2,}/g, '/');
    return isTokenBasePath(ctx.path) ? byToken(ctx, next) : byTenant(ctx, next);
  };
}
