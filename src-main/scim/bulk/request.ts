import type { ResourceTypeDefinition } from '@shared/scim/schema-types';
import { SCIM_URN } from '@shared/scim/urns';
import type { CompatContext } from '../compat';
import { ScimError } from '../errors';
import { messageMember, operationsOf, readEnvelope, refuseUnknownMembers } from '../patch/request';
import { isRecord } from '../values';

/** RFC 7644 §3.7: bulk methods; GET is seed 003's addition (read inside a bulk job). */
export const BULK_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const;
export type BulkMethod = (typeof BULK_METHODS)[number];

/** RFC 7644 §3.7.4 / RFC 7643 §5: advertised in ServiceProviderConfig `bulk`. */
export interface BulkLimits {
  readonly maxOperations: number;
  /** Bytes of request body. */
  readonly maxPayloadSize: number;
}

/** DESIGN.md §3: 1000 operations, 4 MiB. */
export const DEFAULT_BULK_LIMITS: BulkLimits = { maxOperations: 1000, maxPayloadSize: 4 * 1024 * 1024 };

/** How deep a bulk operation's data may nest: real SCIM data is 4 levels deep. */
const MAX_DATA_DEPTH = 64;

export const BULK_ID_PREFIX = 'bulkId:';
/**
 * Rewrites the quoted references inside a string: a PATCH path's filter, `members[value eq
 * "bulkId:x"]`. The string's literals are walked as the filter reads them (JSON's escapes, RFC
 * 7644 §3.4.2.2), so a bulkId with a quote in it (`"bulkId:a\"b"`) is one reference, and an escaped
 * quote inside another literal (`"say \"bulkId:x\" hi"`) is none. `replace` gets each bulkId and
 * returns the text to put in place of its literal, or undefined to leave it.
 */
export function mapQuotedBulkIds(text: string, replace: (bulkId: string) => string | undefined): string {
  let out = '';
  let from = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i)) {
    let end = i + 1;
    while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
    if (end >= text.length) break; // an unterminated literal: the filter parser reports it
    const literal = text.slice(i, end + 1);
    const bulkId = decodedBulkId(literal);
    const replacement = bulkId === undefined ? undefined : replace(bulkId);
    if (replacement !== undefined) {
      out += text.slice(from, i) + replacement;
      from = end + 1;
    }
    i = end + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** The bulkIds a string's quoted references name (see mapQuotedBulkIds). */
export function quotedBulkIds(text: string): string[] {
  const found: string[] = [];
  mapQuotedBulkIds(text, (bulkId) => {
    found.push(bulkId);
    return undefined;
  });
  return found;
}

function decodedBulkId(literal: string): string | undefined {
  if (!literal.startsWith(`"${BULK_ID_PREFIX}`)) return undefined;
  try {
    const text = JSON.parse(literal) as string;
    return text.length > BULK_ID_PREFIX.length ? text.slice(BULK_ID_PREFIX.length) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a string of a Bulk operation's data sits, for the references it may hold. A whole string
 * "bulkId:x" is a reference anywhere (a member's value, a manager, a PATCH value). A quoted one
 * inside other text only in a PATCH operation's `path`, whose value filter compares with it
 * (`members[value eq "bulkId:x"]`): anywhere else such text is a user's own (a nickName quoting
 * "bulkId:x"), to be stored as sent, not rewritten or refused as an unknown bulkId.
 */
export type ReferenceScope =
  'resource' | 'data' | 'readOnly' | 'patchRequest' | 'patchOperations' | 'patchOperation' | 'patchPath';

/**
 * A POST's or PUT's resource (`resource`) holds references anywhere but in a user's `groups`
 * (`readOnly`): the server derives it and ignores what is sent (RFC 7643 §4.1.2), as a single POST
 * does. Counted, a user sent with `groups: [{"value": "bulkId:g"}]` waited for g, and in a circle
 * with g's members both were refused as one that cannot be untangled.
 */
const READ_ONLY_HOLDERS = new Set(['groups', `${SCIM_URN.user}:groups`.toLowerCase()]);

/** The scope of a member (`key`) or, without a key, an element of a value in `scope`. */
export function scopeBelow(scope: ReferenceScope, key?: string): ReferenceScope {
  if (scope === 'readOnly') return 'readOnly';
  if (scope === 'resource') return key !== undefined && READ_ONLY_HOLDERS.has(key.toLowerCase()) ? 'readOnly' : 'data';
  if (scope === 'patchRequest') return key?.toLowerCase() === 'operations' ? 'patchOperations' : 'data';
  if (scope === 'patchOperations') return key === undefined ? 'patchOperation' : 'data';
  if (scope === 'patchOperation') return key?.toLowerCase() === 'path' ? 'patchPath' : 'data';
  return 'data';
}

/** The scope of an operation's `data`. */
export function dataScope(method: BulkMethod): ReferenceScope {
  return method === 'PATCH' ? 'patchRequest' : 'resource';
}

/** One operation of a BulkRequest, validated; bulkId references are still unresolved. */
export interface BulkOperation {
  /** 0-based position in the request. */
  readonly index: number;
  readonly method: BulkMethod;
  readonly bulkId?: string;
  /** The ETag to hold the write to (RFC 7644 §3.7: `version`), for If-Match. */
  readonly version?: string;
  /** As sent, e.g. "/Groups/bulkId:qwerty". */
  readonly path: string;
  /** The resource type the endpoint serves ("User"). */
  readonly resourceType: string;
  /** The endpoint ("/Users"). */
  readonly endpoint: string;
  /** The target id, or a "bulkId:..." reference; undefined for POST. */
  readonly id?: string;
  /** POST/PUT: the resource; PATCH: the PatchOp body. */
  readonly data?: unknown;
  /** bulkIds this operation refers to, in its path or anywhere in its data (RFC 7644 §3.7.2). */
  readonly references: readonly string[];
}

/**
 * An operation that cannot be read (no method, a path no endpoint serves, a POST without a
 * bulkId, data nested too deep...). It fails alone, as RFC 7644 §3.7.3's example answers one 400
 * `invalidSyntax` among operations that succeed ("MUST continue performing as many changes as
 * possible"), and is never run.
 */
export interface MalformedBulkOperation {
  readonly index: number;
  readonly error: ScimError;
  /** As sent, when a string: echoed in its result. */
  readonly method?: string;
  /** As sent, when a string: what refers to it is told that its operation could not be read. */
  readonly bulkId?: string;
  /** The resource its path names, when it names one and the method is not POST (for `location`). */
  readonly target?: { readonly endpoint: string; readonly id: string };
  /** Always empty: nothing in it is read. */
  readonly references: readonly string[];
}

export type BulkEntry = BulkOperation | MalformedBulkOperation;

export function isMalformed(op: BulkEntry): op is MalformedBulkOperation {
  return 'error' in op;
}

export interface BulkRequest {
  /** RFC 7644 §3.7.3: errors tolerated before the job stops; undefined = no limit. */
  readonly failOnErrors?: number;
  readonly operations: readonly BulkEntry[];
}

export interface BulkRequestOptions {
  readonly resourceTypes: readonly ResourceTypeDefinition[];
  readonly limits?: BulkLimits;
  /** The body's size in bytes as received, when the HTTP layer measured it. */
  readonly payloadBytes?: number;
  readonly compat: CompatContext;
}

/**
 * RFC 7644 §3.7.4: a body over maxPayloadSize is 413. Call it with the Content-Length (or the bytes
 * read) before parsing the JSON, so an oversize body is never parsed.
 */
export function checkBulkPayloadSize(bytes: number, limits: BulkLimits = DEFAULT_BULK_LIMITS): void {
  if (bytes > limits.maxPayloadSize) {
    throw new ScimError(
      413,
      `The size of the bulk operation (${bytes} bytes) exceeds the maxPayloadSize (${limits.maxPayloadSize}).`,
    );
  }
}

function syntax(detail: string): ScimError {
  return ScimError.badRequest('invalidSyntax', detail);
}

/**
 * Validates a BulkRequest (RFC 7644 §3.7). Problems of the request as a whole fail it (400
 * invalidSyntax / invalidValue, 413 for the limits): no `Operations` array, a bad `failOnErrors`,
 * a bulkId used twice (a reference to it could mean either). An operation that cannot be read
 * fails alone (MalformedBulkOperation), and problems of its content (a bad resource body) are left
 * to execution; both are reported per operation.
 */
export function parseBulkRequest(body: unknown, options: BulkRequestOptions): BulkRequest {
  const limits = options.limits ?? DEFAULT_BULK_LIMITS;
  if (options.payloadBytes !== undefined) checkBulkPayloadSize(options.payloadBytes, limits);
  const envelope = readEnvelope(body, SCIM_URN.bulkRequest, 'BulkRequest', options.compat);
  refuseUnknownMembers(envelope, ['schemas', 'Operations', 'failOnErrors'], 'The BulkRequest', options.compat);
  const raw = operationsOf(envelope, 'BulkRequest', options.compat);
  if (raw.length > limits.maxOperations) {
    // RFC 7644 §3.7.4: too many operations is 413 as well.
    throw new ScimError(
      413,
      `The number of operations (${raw.length}) exceeds the maxOperations (${limits.maxOperations}).`,
    );
  }
  let failOnErrors = messageMember(envelope, 'failOnErrors', 'The BulkRequest', options.compat)?.value;
  // What Entra and Okta do with unmapped values elsewhere; read as "no limit" like any null.
  if (failOnErrors === null) {
    if (!options.compat.use('nullAsAbsent')) {
      throw options.compat.refuse('nullAsAbsent', 'invalidValue', '"failOnErrors" is null.');
    }
    failOnErrors = undefined;
  }
  if (
    failOnErrors !== undefined &&
    (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 1)
  ) {
    throw ScimError.badRequest('invalidValue', '"failOnErrors" must be a positive integer.');
  }
  const endpoints = new Map(options.resourceTypes.map((t) => [t.endpoint.toLowerCase(), t]));
  const operations = raw.map((op, i): BulkEntry => {
    try {
      return parseBulkOperation(op, i, endpoints, options.compat);
    } catch (error) {
      if (!(error instanceof ScimError)) throw error;
      return malformedOperation(op, i, error, endpoints);
    }
  });
  const seen = new Map<string, number>();
  for (const op of operations) {
    // An unreadable operation's bulkId may be the very thing wrong with it (`""`): it fails alone.
    if (op.bulkId === undefined || isMalformed(op)) continue;
    const first = seen.get(op.bulkId);
    if (first !== undefined) {
      throw ScimError.badRequest(
        'invalidValue',
        `Operations ${first + 1} and ${op.index + 1} both use bulkId "${op.bulkId}"; bulkIds must be unique in a request.`,
      );
    }
    seen.set(op.bulkId, op.index);
  }
  const out: { failOnErrors?: number; operations: BulkEntry[] } = { operations };
  if (typeof failOnErrors === 'number') out.failOnErrors = failOnErrors;
  return out;
}

function parseBulkOperation(
  raw: unknown,
  index: number,
  endpoints: ReadonlyMap<string, ResourceTypeDefinition>,
  compat: CompatContext,
): BulkOperation {
  const n = index + 1;
  if (!isRecord(raw)) throw syntax(`Bulk operation ${n} must be a JSON object.`);
  refuseUnknownMembers(raw, ['method', 'bulkId', 'version', 'path', 'data'], `Bulk operation ${n}`, compat);
  const member = (name: string) => messageMember(raw, name, `Bulk operation ${n}`, compat)?.value;
  const methodRaw = member('method');
  if (typeof methodRaw !== 'string') throw syntax(`Bulk operation ${n} needs a "method".`);
  let method = methodRaw as BulkMethod;
  if (!(BULK_METHODS as readonly string[]).includes(methodRaw)) {
    const upper = methodRaw.toUpperCase();
    if (!(BULK_METHODS as readonly string[]).includes(upper)) {
      throw syntax(`Bulk operation ${n} has method "${methodRaw}"; use POST, PUT, PATCH, DELETE or GET.`);
    }
    // HTTP methods are case-sensitive (RFC 9110 §9.1); the same leniency as PATCH ops.
    if (!compat.use('opCaseInsensitive')) {
      throw compat.refuse(
        'opCaseInsensitive',
        'invalidSyntax',
        `Bulk operation ${n} has method "${methodRaw}"; write "${upper}"`,
      );
    }
    method = upper as BulkMethod;
  }
  const bulkId = optionalString(member('bulkId'), 'bulkId', n);
  // An empty version holds nothing, as an empty If-Match header does not.
  const version = optionalString(member('version'), 'version', n) || undefined;
  const path = member('path');
  if (typeof path !== 'string' || path === '') throw syntax(`Bulk operation ${n} needs a "path" such as "/Users".`);
  const { type, id } = parseBulkPath(path, n, endpoints);
  // RFC 7644 §3.7: bulkId is REQUIRED for POST; POST goes to a collection, the others to a resource.
  if (method === 'POST') {
    if (bulkId === undefined) throw syntax(`Bulk operation ${n} (POST) needs a "bulkId".`);
    if (id !== undefined)
      throw syntax(`Bulk operation ${n} (POST) must target a collection such as "${type.endpoint}".`);
  } else if (id === undefined) {
    throw syntax(`Bulk operation ${n} (${method}) must target a resource such as "${type.endpoint}/{id}".`);
  }
  if (bulkId !== undefined && (bulkId === '' || bulkId.includes('/'))) {
    throw ScimError.badRequest('invalidValue', `Bulk operation ${n} has an empty or malformed "bulkId".`);
  }
  const data = member('data');
  const hasData = data !== undefined && data !== null;
  if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && !hasData) {
    throw syntax(`Bulk operation ${n} (${method}) needs "data".`);
  }
  const references = new Set<string>();
  if (id?.startsWith(BULK_ID_PREFIX)) {
    if (id.length === BULK_ID_PREFIX.length) {
      throw ScimError.badRequest('invalidValue', `Bulk operation ${n} has path "${path}", which names no bulkId.`);
    }
    references.add(id.slice(BULK_ID_PREFIX.length));
  }
  // DELETE and GET ignore their data (below), so nothing in it can refer to anything.
  const usesData = hasData && method !== 'DELETE' && method !== 'GET';
  if (usesData) collectReferences(data, dataScope(method), references, 0, n);
  const op: {
    index: number;
    method: BulkMethod;
    bulkId?: string;
    version?: string;
    path: string;
    resourceType: string;
    endpoint: string;
    id?: string;
    data?: unknown;
    references: string[];
  } = { index, method, path, resourceType: type.name, endpoint: type.endpoint, references: [...references] };
  if (bulkId !== undefined) op.bulkId = bulkId;
  if (version !== undefined) op.version = version;
  if (id !== undefined) op.id = id;
  if (usesData) op.data = data;
  return op;
}

function malformedOperation(
  raw: unknown,
  index: number,
  error: ScimError,
  endpoints: ReadonlyMap<string, ResourceTypeDefinition>,
): MalformedBulkOperation {
  const sent = (name: string): string | undefined => {
    if (!isRecord(raw)) return undefined;
    const key = Object.keys(raw).find((k) => k.toLowerCase() === name.toLowerCase());
    const value = key === undefined ? undefined : raw[key];
    return typeof value === 'string' ? value : undefined;
  };
  const method = sent('method');
  const bulkId = sent('bulkId');
  const target = resourceNamed(sent('path'), method, endpoints);
  return {
    index,
    error,
    references: [],
    ...(method === undefined ? {} : { method }),
    ...(bulkId === undefined ? {} : { bulkId }),
    ...(target === undefined ? {} : { target }),
  };
}

/**
 * The resource an unreadable operation's path names, for its result's `location`: RFC 7644
 * §3.7.3 requires one "except in the event of a POST failure", and a PATCH refused for a bad
 * `version` still names the resource it was for.
 */
function resourceNamed(
  path: string | undefined,
  method: string | undefined,
  endpoints: ReadonlyMap<string, ResourceTypeDefinition>,
): { endpoint: string; id: string } | undefined {
  if (path === undefined || method?.toUpperCase() === 'POST') return undefined;
  try {
    const { type, id } = parseBulkPath(path, 0, endpoints);
    return id === undefined ? undefined : { endpoint: type.endpoint, id };
  } catch {
    return undefined;
  }
}

function optionalString(v: unknown, key: string, n: number): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw syntax(`Bulk operation ${n}: "${key}" must be a string.`);
  return v;
}

/** "/Users", "/Users/{id}", "/Groups/bulkId:x" — relative to the SCIM base (RFC 7644 §3.7). */
function parseBulkPath(
  path: string,
  n: number,
  endpoints: ReadonlyMap<string, ResourceTypeDefinition>,
): { type: ResourceTypeDefinition; id: string | undefined } {
  const m = /^(\/[A-Za-z][A-Za-z0-9_-]*)(?:\/([^/?#]+))?\/?$/.exec(path);
  const type = m ? endpoints.get((m[1] as string).toLowerCase()) : undefined;
  if (!m || !type) {
    // Name the part that is wrong: a query or a deeper path after a good endpoint read as an unknown endpoint.
    const query = path.search(/[?#]/);
    if (query >= 0) {
      throw ScimError.badRequest(
        'invalidValue',
        `Bulk operation ${n} has path "${path}" with a query; a Bulk path names an endpoint or one resource, with no query or fragment.`,
      );
    }
    if (/^\/[^/]+\/[^/]+\/./.test(path)) {
      throw ScimError.badRequest(
        'invalidValue',
        `Bulk operation ${n} has path "${path}"; a Bulk path is an endpoint or an endpoint and one id, like "/Users/{id}".`,
      );
    }
    const known = [...endpoints.values()].map((t) => t.endpoint).join(', ');
    throw ScimError.badRequest(
      'invalidValue',
      `Bulk operation ${n} has path "${path}"; paths start with one of ${known}.`,
    );
  }
  const raw = m[2];
  let id: string | undefined;
  if (raw !== undefined) {
    try {
      id = decodeURIComponent(raw);
    } catch {
      throw ScimError.badRequest('invalidValue', `Bulk operation ${n} has a malformed path "${path}".`);
    }
  }
  return { type, id };
}

/** The bulkIds a value refers to, for data `parseBulkRequest` has accepted already. */
export function referencesIn(value: unknown, scope: ReferenceScope): Set<string> {
  const found = new Set<string>();
  collectReferences(value, scope, found, 0, 0);
  return found;
}

/** Every reference in the data (see ReferenceScope for which strings hold them). */
function collectReferences(v: unknown, scope: ReferenceScope, out: Set<string>, depth: number, n: number): void {
  if (depth > MAX_DATA_DEPTH) throw syntax(`Bulk operation ${n}: "data" nests deeper than ${MAX_DATA_DEPTH} levels.`);
  if (scope === 'readOnly') return;
  if (typeof v === 'string') {
    // A bare "bulkId:" refers to the empty bulkId, which no operation can define (parseBulkRequest
    // refuses it): it fails as unresolved rather than being stored as a manager or member value.
    if (v.startsWith(BULK_ID_PREFIX)) out.add(v.slice(BULK_ID_PREFIX.length));
    else if (scope === 'patchPath' && v.includes(`"${BULK_ID_PREFIX}`))
      for (const ref of quotedBulkIds(v)) out.add(ref);
    return;
  }
  if (Array.isArray(v)) {
    const below = scopeBelow(scope);
    for (const el of v) collectReferences(el, below, out, depth + 1, n);
    return;
  }
  if (isRecord(v)) {
    for (const [key, el] of Object.entries(v)) collectReferences(el, scopeBelow(scope, key), out, depth + 1, n);
  }
}
