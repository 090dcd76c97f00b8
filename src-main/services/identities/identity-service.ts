/**
 * Users and groups: the product's rules over the SCIM core and the store (DESIGN.md §3).
 * - userName unique per tenant case-insensitively; externalId unique per resource type when present
 *   and not empty;
 * - defaults on create and PUT; PUT replaces (readOnly attributes and meta.created kept; a password
 *   absent from a PUT is kept, since clients can never read it back to resend it);
 * - a user's `groups` is derived from memberships, nested groups' included; members must exist in
 *   the tenant and carry a `type`; `display` and `$ref` are derived when read, so renames show
 *   everywhere at once;
 * - DELETE is a hard delete that leaves every group, or deactivation where the tenant says so;
 * - passwords are hashed before the store transaction (which must be synchronous) and never stored.
 * Uniqueness is checked inside the store transaction, so two concurrent creates cannot both win.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceSchema, SchemaRegistry } from '@shared/scim/registry';
import { SCIM_URN } from '@shared/scim/urns';
import type { CompatFlagName, CompatProfileName } from '@shared/scim/compat-flags';
import type { IgnoredTarget } from '@shared/request-log';
import type { Clock } from '../../clock';
import { checkIfMatchRequired, CompatContext } from '../../scim/compat';
import { ScimError } from '../../scim/errors';
import type { FilterNode } from '../../scim/filter/ast';
import { parseAttributePath, parseFilter } from '../../scim/filter/parser';
import { checkKnownToSome, compileFilter } from '../../scim/filter/evaluate';
import { FilterWork, MAX_FILTER_MS, sortTooCostly } from '../../scim/filter/work';
import { listResponse, type ListQuery, type ListResponse } from '../../scim/list';
import { normalizePage, pageOf } from '../../scim/paging';
import { foldKey, type ResourceKind } from '@shared/scim/index-keys';
import { compileProjection, type ProjectedResource, type ProjectionRequest } from '../../scim/projection';
import { applyPatch, type AttributeChange, type FilterView, type PatchResult } from '../../scim/patch/index';
import type { PatchListBudget } from '../../scim/patch/engine';
import { plan } from '../../scim/plan';
import { matchCompiled } from '../../scim/query';
import { validateResourceInput } from '../../scim/resource-input';
import { DEFAULT_MAX_RESULTS } from '../../scim/service-provider-config';
import { checkSortRequest, parseSortOrder, sortAcrossTypes, sortResources } from '../../scim/sort';
import { isRecord, type ResourceData } from '../../scim/values';
import type { DurableStore } from '../../store/durable-store';
import type { GroupDoc, MemberValue, UserDoc } from '../../store/documents';
import type { TenantReader, TenantWriter } from '../../store/transaction';
import type { PasswordHasher } from '../password-hasher';
import type { ResourceHistory } from '../resource-history/index';
import { sameJson, type Json } from '../resource-history/diff';
import { REDACTED_PASSWORD } from '../resource-history/records';

type HistoryJson = Parameters<ResourceHistory['recordCreate']>[2];
import { collectionOf, etagMatches, etagNamesRevision, revisionOf, versionTag } from './kinds';
import { ListCache, type MatchedList } from './list-cache';
import { ListTurns } from './list-turns';
import {
  filterReadsDerived,
  locationOf,
  memberFilterView,
  readsGroups,
  present,
  presentMembers,
  sortReadsDerived,
  versionOfPresented,
  withDerived,
} from './present';
import { getStored, putStored, type StoredMeta, type StoredResource, type WrittenResource } from './stored';
import { turnQueue } from '../turn-queue';
import { counted } from '../../counted';

/** `attributes`/`excludedAttributes` compiled for one resource type. */
type Projector = ReturnType<typeof compileProjection>;

/** What a request brings that the rules depend on. */
export interface ScimRequestContext {
  tenantId: string;
  /** The SCIM base URL the request used (`…/scim/v2`), for meta.location and $ref. */
  baseUrl: string;
  /**
   * The tenant's compatibility flags for this request; it records which flags fired, for the request
   * log. Created from the tenant's profile when absent.
   */
  compat?: CompatContext;
  /**
   * The tenant's `delete_mode` for this request, read with `compat` (see compatOf): a Bulk's 300
   * DELETEs under a setting changed meanwhile removed some users and deactivated the others.
   */
  deleteMode?: 'delete' | 'deactivate';
  /** Who is writing, for the resource history: a token name, or "console". */
  actor?: string;
  /** The HTTP request's id in the request log, so the history can name the request behind a change. */
  requestId?: string;
  /**
   * Throws (401) when the credential that started the request no longer holds: a token revoked,
   * expired or deleted while the request waited for its body or a password hash. Every write checks
   * it inside its transaction, so nothing is written for a token after its revocation.
   */
  stillAuthorized?: () => void;
  /** Shared by the PATCH operations of one Bulk request; a PATCH of its own has its own. */
  patchBudget?: PatchListBudget;
  /**
   * Password hashes wait their turn rather than be refused as busy (HashOptions.inTurn): set for a
   * Bulk request, whose operations run one at a time and whose refused CEO failed a whole org chart.
   */
  hashInTurn?: boolean;
  /**
   * Where the service lists what the request's bodies named but the server left alone, for the
   * request log (a Bulk request's operations share the caller's list). Not kept when absent.
   */
  ignored?: IgnoredTarget[];
}

/** What a write did, beyond the resource: for the request log and the resource history. */
export interface WriteReport {
  changed: readonly string[];
  changes: readonly AttributeChange[];
}

/**
 * A page of a list whose resources are presented as they are pulled (IdentityService.page): a
 * large page can be streamed, with other requests read between its resources.
 */
export interface ListPage {
  totalResults: number;
  startIndex: number;
  /** Exactly the page's resources (itemsPerPage is their number), each pulled once. */
  resources: Iterable<ProjectedResource>;
  /**
   * The same resources for a streamed answer (pull either this or `resources`): a group with many
   * members comes without them, and its members in slices pulled after it, so that no one task
   * presents 50,000 of them.
   */
  parts: Iterable<ResourceParts>;
  /** Their number, known before they are presented. */
  itemsPerPage: number;
}

/** A resource of a streamed page: whole, or without its `members` and with them in slices. */
export interface ResourceParts {
  resource: ProjectedResource;
  /** The members `resource` leaves out, projected as it would have them, a slice at a time. */
  members?: Iterable<unknown[]>;
}

/** From this many members a streamed page's group is sent in slices of MEMBER_SLICE. */
const SLICED_FROM_MEMBERS = 2_000;
const MEMBER_SLICE = 1_000;

/** A stored resource read for a page, with its type. */
interface StoredOfKind {
  kind: ResourceKind;
  doc: StoredResource;
}

/**
 * A write's answer: the representation under the request's projection, plus where the written
 * resource is and its version, for the Location and ETag headers. Those come from the stored
 * resource, since `attributes`/`excludedAttributes` may leave `meta` out of the representation.
 */
/**
 * A resource as answered, with the version for its ETag. Asked for with `membersInSlices`, a group
 * of many members comes as ResourceParts do: without them in `resource`, and with them in
 * `members`, presented as they are pulled (a one-member PATCH of a 50,000-member group built an
 * 8.5 MB answer in one 250 ms task, and eight at once held every tenant a second).
 */
export interface ResourceAnswer extends ResourceParts {
  version: string;
}

export interface WriteAnswer extends ResourceAnswer {
  location: string;
}

/** `attributes`/`excludedAttributes`, and whether the caller streams a large group's members. */
export interface AnswerRequest extends ProjectionRequest {
  membersInSlices?: boolean;
}

export interface WriteOptions {
  /** The request's If-Match header (RFC 7644 §3.14): 412 when it does not match. */
  ifMatch?: string | undefined;
  /**
   * The request's If-None-Match header: 412 when it names the resource's version, or `*` (any
   * version). RFC 9110 §13.1.2 lets a client hold a write to "only if the resource has changed
   * since I read it", or refuse to overwrite what exists.
   */
  ifNoneMatch?: string | undefined;
  /**
   * A Bulk circle's own follow-up write (adding the references it deferred) on a resource the
   * request itself just made: no If-Match can be asked of the client for it, so a tenant that
   * requires If-Match (`requireIfMatch`) does not here.
   */
  followUp?: boolean;
}

/** The writes IdentityService.writeTogether offers its work, each in the one transaction. */
export interface WritesTogether {
  /** `key`: which of writeTogether's `creates` this is (its password was hashed under it). */
  create(kind: ResourceKind, body: unknown, ctx: ScimRequestContext, key: number): WriteAnswer;
  patch(kind: ResourceKind, id: string, body: unknown, ctx: ScimRequestContext, options?: WriteOptions): WriteAnswer;
}

/** A resource writeTogether created, and which of its `creates` made it. */
interface MadeTogether {
  key: number;
  resource: StoredResource;
}

/** A 409 naming the resource that holds the value (see takenWithinCircle). */
class ValueTaken extends ScimError {
  constructor(
    /** `userName "…"`, as the message names it. */
    readonly value: string,
    readonly holder: string,
    detail: string,
  ) {
    super(409, detail, 'uniqueness');
  }
}

/**
 * A uniqueness refusal caused by another create of the same writeTogether, told as such: "already
 * taken in this tenant" sent the caller looking for a resource that, once the circle is taken
 * back, does not exist (Bulk probe). Undefined for any other error.
 */
function takenWithinCircle(error: unknown, made: readonly MadeTogether[]): ScimError | undefined {
  if (!(error instanceof ValueTaken)) return undefined;
  const other = made.find((m) => m.resource.id === error.holder);
  if (other === undefined) return undefined;
  return ScimError.conflict(
    `${error.value} is given by operation ${other.key + 1} of this request, in the same bulkId circle; ` +
      'the whole circle is taken back.',
  );
}

/** A password hashed before its transaction (see writeTogether), or the error hashing it gave. */
type PasswordHashed = { password: string } & ({ hash: string } | { error: unknown });

export interface IdentityServiceDeps {
  store: DurableStore;
  registry: SchemaRegistry;
  hasher: PasswordHasher;
  clock: Clock;
  newId?: () => string;
  maxResults?: number;
  /** How long a list may spend matching (filter/work.ts); MAX_FILTER_MS but in tests. */
  listBudgetMs?: number;
  /** Where each change is remembered (DESIGN.md §4); absent in tests that do not look. */
  history?: ResourceHistory;
}

/** The stored top-level key an engine change names: the attribute, or its extension's URN. */
function topLevelKey(schema: ResourceSchema, attribute: string): string {
  const ext = schema.extensions.find((e) => attribute.toLowerCase().startsWith(`${e.id.toLowerCase()}:`));
  if (ext) return ext.id;
  const whole = schema.extensions.find((e) => e.id.toLowerCase() === attribute.toLowerCase());
  return whole ? whole.id : (attribute.split('.')[0] as string);
}

/**
 * What a PATCH may grow a resource's own attributes to (a group's members aside, which may rightly
 * run to megabytes): as much as a request body may hold (http/json-body.ts), so that what a GET
 * answers can be sent back with PUT. Each PATCH body is bounded, but many of them grew a user to
 * 6 MB, and every filter that reads its emails then read them all, holding the event loop for
 * seconds. A POST or PUT is bounded by its body already (a Bulk operation by the Bulk payload).
 */
export const MAX_RESOURCE_BYTES = 1024 * 1024;

/**
 * A resource over MAX_RESOURCE_BYTES already (made by a Bulk operation, or before the limit) may
 * still change by this much: deactivating it (`true` → `false`) must not be refused for a byte.
 */
const SMALL_GROWTH_BYTES = 1024;

/** Refuses a PATCH that takes a resource over MAX_RESOURCE_BYTES, or grows one over it by more than a little. */
function checkGrowth(kind: ResourceKind, before: StoredResource, after: StoredResource): void {
  const size = ownBytes(after);
  if (size <= MAX_RESOURCE_BYTES) return;
  const was = ownBytes(before);
  if (was > MAX_RESOURCE_BYTES && size <= was + SMALL_GROWTH_BYTES) return;
  const aside = kind === 'Group' ? ' (its members aside)' : '';
  throw ScimError.badRequest(
    'invalidValue',
    `This PATCH would make the ${kind} ${counted(size, 'byte')}${aside}, over the ` +
      `${counted(MAX_RESOURCE_BYTES, 'byte')} a resource may hold (it is ${counted(was, 'byte')} now).`,
  );
}

function ownBytes(doc: StoredResource): number {
  const { members: _members, ...own } = doc;
  return Buffer.byteLength(JSON.stringify(own));
}

/** Below this many resources examined (or put in order) a list costs about a millisecond: not kept. */
const LIST_CACHE_MIN_WORK = 1_000;
/** Below this many resources of the listed types, a scan or a sort is quick: it takes no turn. */
const LIST_TURN_MIN_RESOURCES = 1_000;
/**
 * From this many member values in a tenant's groups, a page of groups with their members may hold
 * the thread long: building and serialising them is linear in the members (ten groups of 50,000
 * members answered 68 MB and held the thread 2 s, found by the soak probe). Past this many groups
 * their members are not counted: such a list takes a turn.
 */
const LIST_TURN_MIN_MEMBERS = 10_000;
const LIST_TURN_COUNTED_GROUPS = 10_000;
/** A filter an index answers with at most this many terms is quick (see mayListLong). */
const QUICK_LOOKUP_TERMS = 4;

/** Comparisons and `pr` tests in a filter, value filters' included. */
function termsOf(node: FilterNode): number {
  switch (node.kind) {
    case 'compare':
    case 'present':
      return 1;
    case 'and':
    case 'or':
      return termsOf(node.left) + termsOf(node.right);
    case 'not':
    case 'valuePath':
      return termsOf(node.filter);
  }
}

export class IdentityService {
  private readonly newId: () => string;
  private readonly maxResults: number;
  private readonly listBudgetMs: number;
  private readonly listCache = new ListCache();
  private readonly listTurns = new ListTurns();
  /** The latest time `stampAfter` gave: the clock can step back, the times it stamps cannot. */
  private latestStamp = 0;
  /**
   * A list answers the newest lastModified it holds, M; a user created after the list in that same
   * millisecond was stamped M too, and a delta sync's next `meta.lastModified gt M` never found it.
   * So a list first waits out the millisecond of the newest stamp (listTurn), and reads when every
   * stamp given is in the past. When it cannot (the clock stands still in tests, or was stepped
   * back behind the stamps), the newest stamp when it ran fences later writes: they are stamped
   * after it. Moving writes forward alone ran the stamps 18 s ahead of the clock under Entra's
   * `userName eq` then POST, one millisecond a pair (found in review).
   */
  private readFence = 0;
  /** History records run after the turn that acknowledged their writes (the history never throws). */
  private readonly historyQueue = turnQueue<() => void>((record) => record());

  constructor(private readonly deps: IdentityServiceDeps) {
    this.newId = deps.newId ?? randomUUID;
    this.maxResults = deps.maxResults ?? DEFAULT_MAX_RESULTS;
    this.listBudgetMs = deps.listBudgetMs ?? MAX_FILTER_MS;
  }

  schemaOf(kind: ResourceKind): ResourceSchema {
    const schema = this.deps.registry.resource(kind);
    if (!schema) throw new Error(`no schema for ${kind}`);
    return schema;
  }

  get(kind: ResourceKind, id: string, ctx: ScimRequestContext, projection: ProjectionRequest = {}): ProjectedResource {
    return this.read(kind, id, ctx, projection).resource;
  }

  /** A resource as GET answers it, with the version for its ETag (derived values included). */
  read(kind: ResourceKind, id: string, ctx: ScimRequestContext, request: AnswerRequest = {}): ResourceAnswer {
    const project = compileProjection(this.schemaOf(kind), request);
    return this.presented(kind, this.find(this.reader(ctx), kind, id), ctx, project, request.membersInSlices);
  }

  async create(
    kind: ResourceKind,
    body: unknown,
    ctx: ScimRequestContext,
    projection: AnswerRequest = {},
  ): Promise<WriteAnswer> {
    const schema = this.schemaOf(kind);
    // Before anything is written: a malformed `attributes` refused after the write (400) told the
    // client a create failed that had happened.
    const project = compileProjection(schema, projection);
    const input = this.parse(schema, 'create', body, ctx);
    // Most creates carry no password: no await (a turn of the microtask queue) for them.
    const passwordHash = 'password' in input ? await this.hashPassword(input, ctx) : undefined;
    const doc = this.newDoc(schema, kind, input, passwordHash);
    const written = await this.deps.store.write(ctx.tenantId, (tx) => {
      ctx.stillAuthorized?.();
      return this.putWhole(tx, kind, doc);
    });
    this.remember(ctx, kind, 'create', undefined, written.resource, undefined, written.json);
    return this.answer(kind, written.resource, ctx, project, projection);
  }

  /**
   * A write's preconditions on the resource as it stands: an If-Match the tenant requires, the
   * resource itself (404), its version (412). Told before anything about the body, however the body
   * is wrong (RFC 9110 §13.2.1), so a client holding a stale version or a gone id learns that first;
   * the write checks the version again in its transaction, where it decides.
   */
  checkPreconditions(
    method: 'PUT' | 'PATCH',
    kind: ResourceKind,
    id: string,
    ctx: ScimRequestContext,
    options: WriteOptions = {},
  ): StoredResource {
    if (!options.followUp) checkIfMatchRequired(method, options.ifMatch, this.compatOf(ctx));
    const reader = this.reader(ctx);
    const existing = this.find(reader, kind, id);
    this.checkVersion(reader, kind, existing, options);
    return existing;
  }

  async replace(
    kind: ResourceKind,
    id: string,
    body: unknown,
    ctx: ScimRequestContext,
    options: WriteOptions = {},
    projection: AnswerRequest = {},
  ): Promise<WriteAnswer> {
    const schema = this.schemaOf(kind);
    const project = compileProjection(schema, projection);
    const existing = this.checkPreconditions('PUT', kind, id, ctx, options);
    const input = this.parse(schema, 'replace', body, ctx);
    const newHash = await this.hashPassword(input, ctx, existing.passwordHash);
    let before: StoredResource | undefined;
    const stored = await this.deps.store.write(ctx.tenantId, (tx) => {
      ctx.stillAuthorized?.();
      const current = this.find(tx, kind, id);
      before = current;
      this.checkVersion(tx, kind, current, options);
      this.checkImmutable(schema, current, input);
      const doc = this.checkedWhole(
        tx,
        kind,
        this.toDoc(schema, kind, input, {
          id,
          meta: this.nextMeta(current.meta),
          passwordHash: newHash ?? current.passwordHash,
        }),
        current,
      );
      // A PUT that restates the resource keeps its version, as a PATCH that changes nothing does:
      // Okta sends a whole PUT on every profile push, and each must not break other clients'
      // If-Match or add an empty version to the history. The same password keeps its stored hash
      // (hashFor), so it compares equal here too; a new one (a new salt) is always a change.
      if (sameContent(current, doc)) return current;
      return putStored(tx, kind, doc).resource;
    });
    if (stored !== before) this.remember(ctx, kind, 'change', before, stored);
    return this.answer(kind, stored, ctx, project, projection);
  }

  /**
   * RFC 7644 §3.5.2 PATCH through the core's engine, under the tenant's flags. A PATCH that changes
   * nothing writes nothing and keeps the version. Changes are written as deltas: top-level
   * attributes by merge, group members by membership change, so a 10,000-member group journals one
   * member. A new password is hashed before the transaction, and the engine runs again inside it on
   * the current document, so a concurrent write is never lost.
   */
  async patch(
    kind: ResourceKind,
    id: string,
    body: unknown,
    ctx: ScimRequestContext,
    options: WriteOptions = {},
    projection: AnswerRequest = {},
  ): Promise<WriteAnswer & { report: WriteReport }> {
    const schema = this.schemaOf(kind);
    const project = compileProjection(schema, projection);
    const compat = this.compatOf(ctx);
    const tenant = this.reader(ctx);
    const first = this.checkPreconditions('PATCH', kind, id, ctx, options);
    const preview = applyPatch(withPasswordShown(first), body, {
      schema,
      compat,
      filterView: this.filterViewOf(kind, tenant, ctx),
      listBudget: ctx.patchBudget,
    });
    const password = preview.changed.includes('password') ? preview.resource.password : undefined;
    const passwordHash =
      typeof password === 'string' ? await this.hashFor(password, ctx, first.passwordHash) : undefined;

    const { before, stored, result } = await this.deps.store.write(ctx.tenantId, (tx) => {
      ctx.stillAuthorized?.();
      return this.patchIn(tx, kind, id, body, ctx, options, { first, preview, passwordHash });
    });
    if (result.changed.length > 0) this.remember(ctx, kind, 'change', before, stored, result.changed);
    for (const { target, reason } of result.ignored) ctx.ignored?.push({ target, reason });
    return {
      ...this.answer(kind, stored, ctx, project, projection),
      report: { changed: result.changed, changes: result.changes },
    };
  }

  /**
   * A PATCH in its transaction, on the resource as it stands there. `ahead`: the engine's run
   * before the transaction, on `first`, which stands when nothing wrote it meanwhile, and the hash
   * of a password it sets. Without it (a write made together, see writeTogether) the PATCH may set
   * no password: there was no turn to hash one.
   */
  private patchIn(
    tx: TenantWriter,
    kind: ResourceKind,
    id: string,
    body: unknown,
    ctx: ScimRequestContext,
    options: WriteOptions,
    ahead?: { first: StoredResource; preview: PatchResult; passwordHash: string | undefined },
  ): { before: StoredResource; stored: StoredResource; result: PatchResult } {
    const schema = this.schemaOf(kind);
    const compat = this.compatOf(ctx);
    const current = this.find(tx, kind, id);
    this.checkVersion(tx, kind, current, options);
    const applied: PatchResult =
      ahead && current === ahead.first
        ? ahead.preview
        : applyPatch(withPasswordShown(current), body, {
            schema,
            // A run again after a concurrent write does the same work: not charged twice, nor
            // its flags told twice.
            compat: ahead ? compat.fresh() : compat,
            filterView: this.filterViewOf(kind, tx, ctx),
            ...(ahead ? {} : { listBudget: ctx.patchBudget }),
          });
    const passwordHash = ahead?.passwordHash;
    if (!ahead && applied.changed.includes('password') && typeof applied.resource.password === 'string') {
      throw new Error('a PATCH made together with other writes cannot set a password: it was not hashed');
    }
    // The password it already has (hashFor kept its hash) is no change.
    const result =
      passwordHash !== undefined && passwordHash === current.passwordHash ? withoutPassword(applied) : applied;
    if (result.changed.length === 0 || !this.writePatch(tx, kind, schema, current, result, passwordHash)) {
      return { before: current, stored: current, result: { ...result, changed: [], changes: [] } };
    }
    return { before: current, stored: this.find(tx, kind, id), result };
  }

  /**
   * Creates and PATCHes made in one store transaction, all or none, and seen by no other request
   * before they all are: the steps of a Bulk circle (scim/bulk/circles.ts), whose POSTs and the
   * PATCHes that link them ran as transactions of their own, so other clients read, used and
   * changed a circle's resources that its failure then took back (concurrency probe). The
   * passwords of `creates` are hashed first (the one wait); `work` runs in the transaction, and a
   * throw there takes every write back. The history records them once they are on disk.
   */
  async writeTogether<T>(
    ctx: ScimRequestContext,
    creates: ReadonlyMap<number, { kind: ResourceKind; body: unknown }>,
    work: (writes: WritesTogether) => T,
  ): Promise<T> {
    const hashes = await this.passwordHashesOf(creates, ctx);
    const records: (() => void)[] = [];
    const madeHere: MadeTogether[] = [];
    const everything = (kind: ResourceKind) => compileProjection(this.schemaOf(kind), {});
    const result = await this.deps.store.write(ctx.tenantId, (tx) =>
      work({
        create: (kind, body, stepCtx, key) => {
          let written: WrittenResource;
          try {
            written = this.createIn(tx, kind, body, stepCtx, hashes.get(key));
          } catch (error) {
            throw takenWithinCircle(error, madeHere) ?? error;
          }
          madeHere.push({ key, resource: written.resource });
          records.push(() =>
            this.remember(stepCtx, kind, 'create', undefined, written.resource, undefined, written.json),
          );
          return this.answer(kind, written.resource, stepCtx, everything(kind), {});
        },
        patch: (kind, id, body, stepCtx, options = {}) => {
          const { before, stored, result } = this.patchIn(tx, kind, id, body, stepCtx, options);
          if (result.changed.length > 0) {
            records.push(() => this.remember(stepCtx, kind, 'change', before, stored, result.changed));
          }
          for (const { target, reason } of result.ignored) stepCtx.ignored?.push({ target, reason });
          return this.answer(kind, stored, stepCtx, everything(kind), {});
        },
      }),
    );
    for (const record of records) record();
    return result;
  }

  /** A create in its transaction, its password hashed before (see writeTogether). */
  private createIn(
    tx: TenantWriter,
    kind: ResourceKind,
    body: unknown,
    ctx: ScimRequestContext,
    hashed: PasswordHashed | undefined,
  ): WrittenResource {
    const schema = this.schemaOf(kind);
    const input = this.parse(schema, 'create', body, ctx);
    const password = input.password;
    delete input.password;
    let passwordHash: string | undefined;
    if (typeof password === 'string') {
      // Hashed from the body before the transaction: one that changed since names what only the
      // transaction made (a bulkId of the create's own circle).
      if (hashed?.password !== password) {
        throw ScimError.badRequest('invalidValue', 'password must not be a bulkId reference to its own circle.');
      }
      if ('error' in hashed) throw hashed.error;
      passwordHash = hashed.hash;
    }
    return this.putWhole(tx, kind, this.newDoc(schema, kind, input, passwordHash));
  }

  /**
   * The hash of each create's password, or the error hashing it gave, by the create's key: each
   * its own (a new salt), as any create's is, even where two give the same password. Read under a
   * throwaway context: the create reads its body again in its transaction, where what it ignores
   * and the flags it uses are told once. A body that cannot be read is refused there.
   */
  private async passwordHashesOf(
    creates: ReadonlyMap<number, { kind: ResourceKind; body: unknown }>,
    ctx: ScimRequestContext,
  ): Promise<Map<number, PasswordHashed>> {
    const hashes = new Map<number, PasswordHashed>();
    for (const [key, { kind, body }] of creates) {
      let password: unknown;
      try {
        const scratch = { ...ctx, compat: this.compatOf(ctx).fresh(), ignored: [] };
        password = this.parse(this.schemaOf(kind), 'create', body, scratch).password;
      } catch {
        continue;
      }
      if (typeof password !== 'string') continue;
      // Each hash takes a turn: a token revoked meanwhile stops the rest (60 passwords went on
      // being hashed for 5 s for a caller already refused).
      ctx.stillAuthorized?.();
      try {
        hashes.set(key, { password, hash: await this.hashFor(password, ctx, undefined) });
      } catch (error) {
        hashes.set(key, { password, error });
      }
    }
    return hashes;
  }

  /** What a PATCH value filter reads of a group's members: what a GET answers (see memberFilterView). */
  private filterViewOf(kind: ResourceKind, tenant: TenantReader, ctx: ScimRequestContext): FilterView | undefined {
    return kind === 'Group' ? memberFilterView(tenant, ctx.baseUrl) : undefined;
  }

  /**
   * Turns an engine result into store changes: merges of top-level keys, and member deltas. False
   * when, once stored as the store keeps it, nothing would change.
   */
  private writePatch(
    tx: TenantWriter,
    kind: ResourceKind,
    schema: ResourceSchema,
    current: StoredResource,
    result: PatchResult,
    passwordHash: string | undefined,
  ): boolean {
    const next = result.resource;
    const topKeys = new Set<string>();
    let membersChange: AttributeChange | undefined;
    for (const change of result.changes) {
      if (kind === 'Group' && change.attribute === 'members') membersChange = change;
      else topKeys.add(topLevelKey(schema, change.attribute));
    }
    const set: Record<string, unknown> = {};
    const unset: string[] = [];
    for (const key of topKeys) {
      if (key === 'password') {
        if (passwordHash !== undefined) set.passwordHash = passwordHash;
        else unset.push('passwordHash');
        continue;
      }
      if (key === 'groups') continue; // derived, never stored
      if (next[key] === undefined) unset.push(key);
      else set[key] = next[key];
    }
    if (kind === 'User' && set[SCIM_URN.enterpriseUser] !== undefined) {
      set[SCIM_URN.enterpriseUser] = withStoredManager(tx, set[SCIM_URN.enterpriseUser]);
      // A manager given as a GET shows it (with $ref and displayName) is stored as it was.
      if (sameJson(set[SCIM_URN.enterpriseUser] as Json, current[SCIM_URN.enterpriseUser] as Json)) {
        delete set[SCIM_URN.enterpriseUser];
      }
      if (Object.keys(set).length === 0 && unset.length === 0) return false;
    }
    const candidate = { ...current, ...set } as StoredResource;
    for (const key of unset) delete candidate[key];
    if (kind === 'User' && candidate.userName === undefined) {
      throw ScimError.badRequest('mutability', 'userName is required and cannot be removed.');
    }
    if (kind === 'Group' && candidate.displayName === undefined) {
      throw ScimError.badRequest('mutability', 'displayName is required and cannot be removed.');
    }
    if (Object.keys(set).length > 0) checkGrowth(kind, current, candidate);
    checkNameLength(kind, candidate, current);
    this.checkUnique(tx, kind, candidate, current);
    const membership = membersChange ? this.netMembership(tx, candidate, current, membersChange) : undefined;
    // A replace of `members` by the same members reads as all removed and all added again (the client
    // leaves out the `type` we store): nothing changes, so no new version either.
    if (!membership && Object.keys(set).length === 0 && unset.length === 0) return false;
    const extensions = schema.extensions.filter((ext) => candidate[ext.id] !== undefined).map((ext) => ext.id);
    set.schemas = [schema.core.id, ...extensions];
    set.meta = this.nextMeta(current.meta);
    if (membership) tx.changeMembers(current.id, membership);
    tx.merge(collectionOf(kind), current.id, set as Partial<UserDoc & GroupDoc>, unset);
    return true;
  }

  /** The members a PATCH really removes and adds, checked; undefined when it comes to nothing. */
  private netMembership(
    tx: TenantWriter,
    candidate: StoredResource,
    current: StoredResource,
    change: AttributeChange,
  ): { remove: string[]; add: MemberValue[] } | undefined {
    // The store's index, not a set of the stored members: 8 ms of each one-member PATCH of a
    // 50,000-member group went into building that set.
    const present = { has: (value: string) => tx.listsMember(current.id, value) };
    const added =
      this.checkMembers(tx, { ...candidate, members: (change.added ?? []) as MemberValue[] }, current.id) ?? [];
    const readded = new Set(added.map((m) => m.value));
    const remove = (change.removed ?? [])
      .map((m) => String((m as { value: unknown }).value))
      .filter((value) => present.has(value) && !readded.has(value));
    const add = added.filter((m) => !present.has(m.value));
    return remove.length > 0 || add.length > 0 ? { remove, add } : undefined;
  }

  /**
   * Hard delete (leaving every group), or deactivation for users where the tenant asks for it. A
   * deactivated user is still there, with a new version: that version is answered, for the ETag a
   * client's next conditional write needs (none after a hard delete).
   */
  async delete(
    kind: ResourceKind,
    id: string,
    ctx: ScimRequestContext,
    options: WriteOptions = {},
  ): Promise<{ version?: string }> {
    if (!options.followUp) checkIfMatchRequired('DELETE', options.ifMatch, this.compatOf(ctx));
    const deactivate = kind === 'User' && this.deleteModeOf(ctx) === 'deactivate';
    const outcome = await this.deps.store.write(ctx.tenantId, (tx) => {
      ctx.stillAuthorized?.();
      const current = this.find(tx, kind, id);
      this.checkVersion(tx, kind, current, options);
      if (deactivate) {
        if (current.active === false) return { before: current, after: current, unchanged: true };
        tx.merge('users', id, { active: false, meta: this.nextMeta(current.meta) } as Partial<UserDoc>);
        return { before: current, after: this.find(tx, kind, id) };
      }
      // The groups that listed it change too: a new version each, so their ETags move. Read
      // before the removal: stored documents are replaced, never changed, so these stay as they were.
      const listing = tx.groupsOf(id).map((groupId) => this.find(tx, 'Group', groupId));
      tx.delete(collectionOf(kind), id);
      const groups = listing.map((before) => {
        tx.changeMembers(before.id, { remove: [id] });
        tx.merge('groups', before.id, { meta: this.nextMeta(before.meta) } as Partial<GroupDoc>);
        return { before, after: this.find(tx, 'Group', before.id) };
      });
      return { before: current, after: undefined, groups };
    });
    if (outcome.after) {
      if (!outcome.unchanged) this.remember(ctx, kind, 'change', outcome.before, outcome.after, ['active']);
      return {
        version: versionOfPresented(present(this.reader(ctx), kind, outcome.after, ctx.baseUrl, { members: false })),
      };
    }
    this.remember(ctx, kind, 'delete', outcome.before, undefined);
    for (const group of outcome.groups ?? []) {
      this.remember(ctx, 'Group', 'change', group.before, group.after, ['members']);
    }
    return {};
  }

  /**
   * Resolves when a list of these types may run: at once for a quick one, at its turn (ListTurns)
   * for one that may scan or sort a large collection, or answer many members. Call `search` or
   * `page` right after, with no `await` between. Tells whether the page may answer many members:
   * the caller should then stream it (`page`), since building it whole holds the thread for
   * seconds and its memory (ten groups of 50,000 members are 105 MB of JSON).
   */
  async listTurn(
    kinds: readonly ResourceKind[],
    query: ListQuery & { filter?: string | undefined },
    ctx: ScimRequestContext,
  ): Promise<{ manyMembers: boolean }> {
    const manyMembers = kinds.includes('Group') && this.membersListedLong(this.reader(ctx), query);
    if (manyMembers || this.mayListLong(kinds, query, ctx)) await this.listTurns.take();
    await this.pastNewestStamp();
    return { manyMembers };
  }

  /** Waits, 2 ms at most, until the clock has passed the newest stamp given (see readFence). */
  private async pastNewestStamp(): Promise<void> {
    const ahead = this.latestStamp - this.deps.clock.now();
    if (ahead < 0 || ahead > 1) return;
    await new Promise((resolve) => setTimeout(resolve, ahead + 1));
  }

  /**
   * Over at least LIST_TURN_MIN_RESOURCES of the tenant's resources, any list but a page in created
   * order and a short filter an index answers (an IdP's `userName eq`, Entra's membership check):
   * a scan, a sort, or an index's candidates each tested against a long remainder (`userName sw
   * "a" and (…200 terms…)` plans as a lookup, and cost as much as a scan). A filter that does not
   * parse is refused by the list at once.
   */
  private mayListLong(
    kinds: readonly ResourceKind[],
    query: ListQuery & { filter?: string | undefined },
    ctx: ScimRequestContext,
  ): boolean {
    const tenant = this.reader(ctx);
    const size = kinds.reduce((sum, kind) => sum + tenant.count(collectionOf(kind)), 0);
    if (size < LIST_TURN_MIN_RESOURCES) return false;
    if (!(isBlank(query.sortBy) && isBlank(query.sortOrder))) {
      // A page read from the userName index (see pageInUserNameOrder) sorts nothing.
      return !(isBlank(query.filter) && this.sortsByUserNameIndex(kinds, query));
    }
    let ast: ReturnType<typeof parseQueryFilter>;
    try {
      ast = parseQueryFilter(query.filter);
    } catch {
      return false;
    }
    if (ast === undefined) return false;
    return termsOf(ast) > QUICK_LOOKUP_TERMS || kinds.some((kind) => plan(ast, this.schemaOf(kind)).kind === 'scan');
  }

  /** Whether a list of groups answers their members, from a tenant whose groups hold many. */
  private membersListedLong(tenant: TenantReader, query: ListQuery): boolean {
    if (query.count !== undefined && Number(query.count) === 0) return false;
    let projector: Projector;
    try {
      projector = compileProjection(this.schemaOf('Group'), query);
    } catch {
      return false; // refused by the list at once
    }
    if (!projector.emits('members')) return false;
    const groups = tenant.count('groups');
    if (groups > LIST_TURN_COUNTED_GROUPS) return true;
    let members = 0;
    for (const group of tenant.list('groups')) {
      members += Array.isArray(group.members) ? group.members.length : 0;
      if (members >= LIST_TURN_MIN_MEMBERS) return true;
    }
    return false;
  }

  list(kind: ResourceKind, query: ListQuery & { filter?: string | undefined }, ctx: ScimRequestContext): ListResponse {
    return this.search([kind], query, ctx);
  }

  /**
   * A query over one or several resource types (RFC 7644 §3.4.3: a search at the root covers every
   * type). An attribute a type's schema lacks reads as absent in that type (§3.4.2.1); one that no
   * type has makes the filter (or sortBy) invalid. All types' results are sorted and paged together.
   */
  search(
    kinds: readonly ResourceKind[],
    query: ListQuery & { filter?: string | undefined },
    ctx: ScimRequestContext,
  ): ListResponse {
    const page = this.page(kinds, query, ctx);
    return listResponse([...page.resources], page.totalResults, page.startIndex);
  }

  /**
   * `search`, with the page's resources presented as they are pulled (an answer streamed resource
   * by resource; see http/scim/streamed-page.ts). The page is chosen, and its resources read, when
   * this is called: what a resource stores is as it was then, so a page streamed over seconds is
   * as consistent as one built at once, and its newest `meta.lastModified` still fences later
   * writes (see readFence). What is derived when read (a member's display) is read as it is pulled.
   */
  page(
    kinds: readonly ResourceKind[],
    query: ListQuery & { filter?: string | undefined },
    ctx: ScimRequestContext,
  ): ListPage {
    const ast = parseQueryFilter(query.filter);
    const page = normalizePage(query, this.maxResults);
    const tenant = this.reader(ctx);
    if (this.latestStamp >= this.deps.clock.now()) this.readFence = this.latestStamp;
    const [only] = kinds;
    const defaultOrder = isBlank(query.sortBy) && isBlank(query.sortOrder);
    // Checked whatever count asks for: count=0 orders nothing, and a sortBy that a page would refuse
    // must not be accepted just because no page was asked for. Also spares a scan before a refusal.
    if (!defaultOrder)
      checkSortRequest(
        kinds.map((kind) => this.schemaOf(kind)),
        query,
      );
    if (kinds.length === 1 && only && !ast && defaultOrder) {
      return this.pageInCreatedOrder(tenant, only, page, query, ctx);
    }
    if (!ast && this.sortsByUserNameIndex(kinds, query)) {
      return this.pageInUserNameOrder(tenant, page, query, ctx);
    }
    const { kinds: kindOf, ids, total } = this.matchAll(kinds, ast, query, tenant, ctx, defaultOrder, page.count > 0);
    const projectors = new Map(kinds.map((kind) => [kind, compileProjection(this.schemaOf(kind), query)]));
    const first = page.startIndex - 1;
    const chosen = pageOf(ids, page).map((id, i): StoredOfKind => {
      const kind = kindOf[first + i] as ResourceKind;
      return { kind, doc: getStored(tenant, kind, id) as StoredResource };
    });
    return {
      totalResults: total,
      startIndex: page.startIndex,
      itemsPerPage: chosen.length,
      resources: this.wholeAsPulled(chosen, (kind) => projectors.get(kind) as Projector, ctx),
      parts: this.presentedAsPulled(chosen, (kind) => projectors.get(kind) as Projector, ctx, true),
    };
  }

  /**
   * Stored resources read for a page, presented one at a time as they are pulled. A tenant deleted
   * meanwhile stops the page (its reader is gone); a member deleted meanwhile is left out, as a GET
   * would leave it out (see present). In slices, a large group comes as `presented` gives it.
   */
  private *presentedAsPulled(
    chosen: readonly StoredOfKind[],
    projectorOf: (kind: ResourceKind) => Projector,
    ctx: ScimRequestContext,
    membersInSlices: boolean,
  ): Generator<ResourceParts, void, undefined> {
    for (const { kind, doc } of chosen) {
      const { resource, members } = this.presented(kind, doc, ctx, projectorOf(kind), membersInSlices);
      yield members === undefined ? { resource } : { resource, members };
    }
  }

  /** A page's resources whole (see presentedAsPulled). */
  private *wholeAsPulled(
    chosen: readonly StoredOfKind[],
    projectorOf: (kind: ResourceKind) => Projector,
    ctx: ScimRequestContext,
  ): Generator<ProjectedResource, void, undefined> {
    for (const { resource } of this.presentedAsPulled(chosen, projectorOf, ctx, false)) yield resource;
  }

  /** Whether a list of these types with this sortBy is in the order of the userName index. */
  private sortsByUserNameIndex(kinds: readonly ResourceKind[], query: ListQuery): boolean {
    return kinds.length === 1 && kinds[0] === 'User' && sortsByUserName(this.schemaOf('User'), query.sortBy);
  }

  /**
   * A page of every user sorted by userName, read from the userName index (see inUserNameOrder):
   * at 100,000 users, loading and sorting them all took 0.5–1 s after any write (when the list
   * cache is stale), and held every tenant meanwhile.
   */
  private pageInUserNameOrder(
    tenant: TenantReader,
    page: { startIndex: number; count: number },
    query: ListQuery,
    ctx: ScimRequestContext,
  ): ListPage {
    const descending = parseSortOrder(query.sortOrder);
    return this.pageFromIndex(tenant, 'User', page, query, ctx, (offset, count) =>
      tenant.inUserNameOrder(offset, count, descending),
    );
  }

  /**
   * Every match, type by type, each type in list order (`ordered` false: totals only, for count=0).
   * When finding or ordering them was costly (1,000 resources or more), they are kept for the next
   * page (see ListCache).
   */
  private matchAll(
    kinds: readonly ResourceKind[],
    ast: ReturnType<typeof parseFilter> | undefined,
    query: ListQuery & { filter?: string | undefined },
    tenant: TenantReader,
    ctx: ScimRequestContext,
    defaultOrder: boolean,
    ordered: boolean,
  ): MatchedList {
    // Filters and sorts on values derived when read see the representation the server answers; a
    // list that orders nothing (count=0) derives nothing for its sortBy.
    const filterDerives = ast !== undefined && filterReadsDerived(ast);
    const sortDerives = ordered && sortReadsDerived(query.sortBy);
    const readsDerived = filterDerives || sortDerives;
    // A filter on a derived `$ref` or `meta.location` depends on the base path it came in on.
    const key = JSON.stringify([
      ctx.tenantId,
      kinds,
      query.filter ?? '',
      query.sortBy ?? '',
      query.sortOrder ?? '',
      readsDerived ? ctx.baseUrl : '',
    ]);
    // Across types (POST /.search), an attribute one type lacks reads as absent in it (RFC 7644
    // §3.4.2.1); one that no type has is still a mistake.
    const acrossTypes = kinds.length > 1;
    if (acrossTypes && ast)
      checkKnownToSome(
        ast,
        kinds.map((kind) => this.schemaOf(kind)),
      );
    // Compiled before a cached list is used: the tenant's flags decide whether the filter is valid
    // (`booleanStrings`), and a leniency is reported as fired on every request that relies on it.
    // A filter that fails for one type (an operator its attribute's type refuses) is invalid.
    // One budget for the request, whatever number of types it reads (see work.ts).
    const work = listWork(
      this.listBudgetMs,
      // Only without a filter can the sortBy alone have spent the budget.
      sortDerives && ast === undefined ? sortTooCostly(String(query.sortBy).trim()) : undefined,
    );
    const filterOptions = { unknownAsAbsent: acrossTypes, compat: this.compatOf(ctx), work };
    const predicates = kinds.map((kind) => (ast ? compileFilter(ast, this.schemaOf(kind), filterOptions) : undefined));
    const cached = this.listCache.get(key, tenant.identitiesVersion);
    if (cached) return cached;
    let examined = 0;
    const kindOf: ResourceKind[] = [];
    const ids: string[] = [];
    let total = 0;
    const matchedByKind: { schema: ResourceSchema; resources: ResourceData[] }[] = [];
    for (const [k, kind] of kinds.entries()) {
      const schema = this.schemaOf(kind);
      // Matching sees derived attributes too (a user's groups), so filters on them work; a filter
      // on a value derived when read (a member's display) sees the full representation.
      // Loading is the scan's cost, not the filter's: the budget's clock stops meanwhile. Deriving
      // what the filter reads (each member of a group looked up for `members.display`, a user's
      // groups through their nesting) is the filter's: ten groups of 100,000 members held every
      // tenant 2.7 s uncounted, a chain of 3,000 nested groups 8 s. What it does not read is not
      // derived.
      const derivesGroups = kind === 'User' && readsGroups(ast, ordered ? query.sortBy : undefined);
      // Counted, not matched: without a filter or an order, every resource is a match.
      if (!ast && !ordered) {
        total += tenant.count(collectionOf(kind));
        continue;
      }
      const load = (id: string) => {
        examined++;
        const doc = work.outside(() => getStored(tenant, kind, id));
        if (!doc) return undefined;
        const step = () => work.count();
        if (readsDerived) return present(tenant, kind, doc, ctx.baseUrl, { step });
        return derivesGroups ? withDerived(tenant, kind, doc, step) : doc;
      };
      const found = matchCompiled(ast, predicates[k], schema, tenant.candidates, load);
      total += found.length;
      if (!ordered) continue;
      if (acrossTypes) {
        matchedByKind.push({ schema, resources: found });
        continue;
      }
      for (const resource of this.ordered(tenant, kind, found, query, defaultOrder)) {
        kindOf.push(kind);
        ids.push(String(resource.id));
      }
    }
    // One order over every type (RFC 7644 §3.4.3), not each type's results one after the other.
    if (acrossTypes && ordered) {
      for (const { resource, group } of sortAcrossTypes(matchedByKind, query)) {
        kindOf.push(kinds[group] as ResourceKind);
        ids.push(String(resource.id));
      }
    }
    const list = { kinds: kindOf, ids, total };
    // Only what was costly to find or to order: an index lookup (`userName eq`) would just push out
    // the scans the cache is for.
    if (ordered && examined + ids.length >= LIST_CACHE_MIN_WORK)
      this.listCache.set(key, tenant.identitiesVersion, list);
    return list;
  }

  /**
   * Matches in list order. Without sortBy, a large share of a big collection (a filter no index
   * answers, `active eq true` over 100,000 users) is put in order by walking the created-order
   * index: the same order as sorting, without parsing and comparing every match's time.
   */
  private ordered(
    tenant: TenantReader,
    kind: ResourceKind,
    found: ResourceData[],
    query: ListQuery,
    defaultOrder: boolean,
  ): ResourceData[] {
    const collection = collectionOf(kind);
    const size = tenant.count(collection);
    if (!defaultOrder || found.length < 256 || found.length * 16 < size) {
      return sortResources(found, this.schemaOf(kind), query);
    }
    const byId = new Map(found.map((resource) => [String(resource.id), resource]));
    const out: ResourceData[] = [];
    for (const id of tenant.inCreatedOrder(collection, 0, size)) {
      const resource = byId.get(id);
      if (resource) out.push(resource);
    }
    return out;
  }

  /**
   * A page of a whole collection in the default order, read from the store's created-order index:
   * the same answer as matching everything and sorting it (`sortResources` without sortBy), at the
   * cost of one page. This is how Okta imports a directory: `startIndex=1&count=100`, then 101…
   */
  private pageInCreatedOrder(
    tenant: TenantReader,
    kind: ResourceKind,
    page: { startIndex: number; count: number },
    projection: ProjectionRequest,
    ctx: ScimRequestContext,
  ): ListPage {
    const collection = collectionOf(kind);
    return this.pageFromIndex(tenant, kind, page, projection, ctx, (offset, count) =>
      tenant.inCreatedOrder(collection, offset, count),
    );
  }

  /** A page of a whole collection whose ids `read(offset, count)` gives in list order. */
  private pageFromIndex(
    tenant: TenantReader,
    kind: ResourceKind,
    page: { startIndex: number; count: number },
    projection: ProjectionRequest,
    ctx: ScimRequestContext,
    read: (offset: number, count: number) => string[],
  ): ListPage {
    const project = compileProjection(this.schemaOf(kind), projection);
    const ids = page.count > 0 ? read(page.startIndex - 1, page.count) : [];
    const chosen = ids.map((id): StoredOfKind => ({ kind, doc: getStored(tenant, kind, id) as StoredResource }));
    return {
      totalResults: tenant.count(collectionOf(kind)),
      startIndex: page.startIndex,
      itemsPerPage: chosen.length,
      resources: this.wholeAsPulled(chosen, () => project, ctx),
      parts: this.presentedAsPulled(chosen, () => project, ctx, true),
    };
  }

  /**
   * Every resource matching a filter, in id order, for a streamed export: resources are presented
   * and projected one at a time as the consumer pulls them, so the export's memory does not grow
   * with its size (only the list of matching ids is held).
   */
  *exportResources(
    kind: ResourceKind,
    query: ProjectionRequest & { filter?: string | undefined },
    ctx: ScimRequestContext,
  ): Generator<ProjectedResource, void, undefined> {
    const schema = this.schemaOf(kind);
    const ast = parseQueryFilter(query.filter);
    // The match is held to the list budget; the re-check of each resource as it is sent is not
    // (it would count the same comparisons twice and cut a long export part way).
    const work = listWork(this.listBudgetMs);
    const predicate = ast ? compileFilter(ast, schema, { compat: this.compatOf(ctx), work }) : undefined;
    const recheck = ast ? compileFilter(ast, schema, { compat: this.compatOf(ctx) }) : undefined;
    const projector = compileProjection(schema, query);
    const tenant = this.reader(ctx);
    // Matched as a list matches (matchAll): a filter on what `present` derives sees what GET
    // answers, and a user's groups are walked only when read, the walk counted in the budget.
    const derivesAll = ast !== undefined && filterReadsDerived(ast);
    const derivesGroups = kind === 'User' && readsGroups(ast, undefined);
    const matchable = (reader: TenantReader, doc: StoredResource, step?: () => void) => {
      if (derivesAll) return present(reader, kind, doc, ctx.baseUrl, { step });
      return derivesGroups ? withDerived(reader, kind, doc, step) : doc;
    };
    const load = (reader: TenantReader, id: string) => {
      const doc = getStored(reader, kind, id);
      return doc && matchable(reader, doc);
    };
    // Loading is the scan's cost, not the filter's (see matchAll); deriving is the filter's.
    const loadUntimed = (id: string) => {
      const doc = work.outside(() => getStored(tenant, kind, id));
      return doc && matchable(tenant, doc, () => work.count());
    };
    const ids = matchCompiled(ast, predicate, schema, tenant.candidates, loadUntimed).map((resource) =>
      String(resource.id),
    );
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const id of ids) {
      // Checked as the export goes: a token revoked meanwhile must not go on reading the directory.
      ctx.stillAuthorized?.();
      const reader = this.reader(ctx);
      // A resource deleted while the export runs is skipped, not an error; one changed meanwhile is
      // sent as it is now, and only if it still matches the filter (a user deactivated during an
      // export of `active eq true` is left out, not sent with active false).
      const current = load(reader, id);
      if (current && (recheck === undefined || recheck(current))) {
        yield projector(
          present(reader, kind, getStored(reader, kind, id)!, ctx.baseUrl, { members: projector.emits('members') }),
        );
      }
    }
  }

  // ---- helpers ----

  /** A new resource's stored form: a new id, created now, revision 1. */
  private newDoc(
    schema: ResourceSchema,
    kind: ResourceKind,
    input: Record<string, unknown>,
    passwordHash: string | undefined,
  ): StoredResource {
    const now = this.stampAfter();
    return this.toDoc(schema, kind, input, {
      id: this.newId(),
      meta: { resourceType: kind, created: now, lastModified: now, version: versionTag(1) },
      passwordHash,
    });
  }

  /** Stores a whole resource (create, PUT) after the checks every whole write needs. */
  private putWhole(tx: TenantWriter, kind: ResourceKind, doc: StoredResource): WrittenResource {
    return putStored(tx, kind, this.checkedWhole(tx, kind, doc));
  }

  /** A whole resource as it will be stored: unique where it must be, its members checked. */
  private checkedWhole(
    tx: TenantReader,
    kind: ResourceKind,
    doc: StoredResource,
    before?: StoredResource,
  ): StoredResource {
    checkNameLength(kind, doc, before);
    this.checkUnique(tx, kind, doc, before);
    if (kind === 'User') {
      const enterprise = withStoredManager(tx, doc[SCIM_URN.enterpriseUser]);
      return enterprise === doc[SCIM_URN.enterpriseUser] ? doc : { ...doc, [SCIM_URN.enterpriseUser]: enterprise };
    }
    const members = this.checkMembers(tx, doc, doc.id);
    return members ? { ...doc, members } : doc;
  }

  /** The meta of the next version: modified now, revision + 1. */
  private nextMeta(meta: StoredMeta): StoredMeta {
    return {
      ...meta,
      lastModified: this.stampAfter(meta.lastModified),
      version: versionTag(revisionOf(meta.version) + 1),
    };
  }

  /**
   * The time of a write: never earlier than one this server stamped before, and strictly later
   * than the resource's last revision. An IdP syncs with `meta.lastModified gt <the last it saw>`
   * (RFC 7643 §3.1: the time the resource was last updated); two writes in one millisecond, or a
   * clock stepped back by NTP, gave a new revision the old time or an earlier one, and the sync
   * missed it.
   */
  private stampAfter(previous?: string): string {
    const last = previous === undefined ? Number.NaN : Date.parse(previous);
    let at = Math.max(this.deps.clock.now(), this.latestStamp);
    if (at <= this.readFence) at = this.readFence + 1;
    if (Number.isFinite(last) && at <= last) at = last + 1;
    this.latestStamp = at;
    return new Date(at).toISOString();
  }

  /** The response representation of a stored resource, under the request's projection. */
  private answer(
    kind: ResourceKind,
    stored: StoredResource,
    ctx: ScimRequestContext,
    project: Projector,
    request: AnswerRequest,
  ): WriteAnswer {
    return {
      ...this.presented(kind, stored, ctx, project, request.membersInSlices),
      location: locationOf(kind, stored.id, ctx.baseUrl),
    };
  }

  private presented(
    kind: ResourceKind,
    stored: StoredResource,
    ctx: ScimRequestContext,
    project: Projector,
    membersInSlices = false,
  ): ResourceAnswer {
    const members = project.emits('members') ? stored.members : undefined;
    if (membersInSlices && members !== undefined && members.length >= SLICED_FROM_MEMBERS) {
      // The slices read through this reader, not the store's: a write's answer goes out whole
      // after its write is on disk, even once a later batch failed and the store refuses reads
      // (see durableBeforeSending); a revocation still stops it between slices.
      const reader = this.reader(ctx);
      // Its version still digests every member (present computes it with or without them).
      const bare = present(reader, kind, stored, ctx.baseUrl, { members: false });
      return {
        resource: project(bare),
        version: versionOfPresented(bare),
        members: memberSlices(reader, members, bare, project, ctx.baseUrl),
      };
    }
    const full = present(this.reader(ctx), kind, stored, ctx.baseUrl, { members: project.emits('members') });
    // Taken before the projection, which may leave meta out.
    return { resource: project(full), version: versionOfPresented(full) };
  }

  /** The resource as history keeps it: the stored document without the password hash. */
  private remember(
    ctx: ScimRequestContext,
    kind: ResourceKind,
    event: 'create' | 'change' | 'delete',
    before: StoredResource | undefined,
    after: StoredResource | undefined,
    attributes?: readonly string[],
    /** `after` as journaled, so a creation is not serialized a second time for the history. */
    afterJson?: string,
  ): void {
    const history = this.deps.history;
    if (!history) return;
    // The history numbers a version as the resource does (meta.version), so that a version lost
    // from the history (its last moments before a crash) leaves a gap rather than shifting the
    // numbers of every version after it. A deletion is the revision after the last one.
    const version = after ? revisionOf(after.meta.version) : before ? revisionOf(before.meta.version) + 1 : 0;
    const meta = {
      // The version's own time, as its `meta.lastModified` says; a deletion's, stamped now.
      time: Date.parse(after?.meta.lastModified ?? this.stampAfter(before?.meta.lastModified)),
      actor: ctx.actor ?? null,
      request_id: ctx.requestId ?? null,
      ...(version > 0 ? { version } : {}),
      ...(attributes ? { attributes } : {}),
      flags: ctx.compat?.fired ?? [],
      // A new password gets a new hash (a new salt); the same one again keeps its hash (hashFor).
      ...(before && after && after.passwordHash !== before.passwordHash ? { passwordChanged: true } : {}),
    };
    // A version shows that a password is set, never the password or its hash. A group emptied of
    // its members keeps an empty list in the store (the membership delta's shape); its answers leave
    // `members` out, and so does its history.
    // The casts to HistoryJson: the store's JSON type admits `undefined` for an optional field (it
    // never reaches the disk, JSON.stringify drops it), the history's does not; the values are the same.
    const strip = (doc: StoredResource): HistoryJson => {
      const emptied = doc.members?.length === 0;
      if (doc.passwordHash === undefined && !emptied) return doc as unknown as HistoryJson;
      const { passwordHash, members, ...rest } = doc;
      return {
        ...rest,
        ...(members && !emptied ? { members } : {}),
        ...(passwordHash === undefined ? {} : { password: REDACTED_PASSWORD }),
      } as unknown as HistoryJson;
    };
    const id = (after ?? before)?.id ?? '';
    // Diffing and serialising a version is work the caller need not wait for: it runs right after,
    // in the order the writes were acknowledged (the history records what is already durable).
    this.historyQueue.push(() => {
      if (event === 'create' && after) {
        // The journaled JSON holds the password hash that strip() takes out: not usable then.
        const json = after.passwordHash === undefined ? afterJson : undefined;
        history.recordCreate(ctx.tenantId, kind, strip(after), meta, json);
      } else if (event === 'change' && before && after)
        history.recordChange(ctx.tenantId, kind, id, strip(before), strip(after), meta);
      else if (event === 'delete') history.recordDelete(ctx.tenantId, kind, id, meta);
    });
  }

  private reader(ctx: ScimRequestContext): TenantReader {
    const tenant = this.deps.store.tenant(ctx.tenantId);
    if (!tenant) throw ScimError.notFound(`Tenant ${ctx.tenantId} not found.`);
    return tenant;
  }

  private find(tenant: TenantReader, kind: ResourceKind, id: string): StoredResource {
    const doc = getStored(tenant, kind, id);
    if (!doc) throw ScimError.notFound(`${kind} ${id} not found.`);
    return doc;
  }

  private parse(
    schema: ResourceSchema,
    context: 'create' | 'replace',
    body: unknown,
    ctx: ScimRequestContext,
  ): Record<string, unknown> {
    // The same value rules as PATCH, under the tenant's flags, then the schema's zod view. Its
    // result is a new object (z.object builds its output), which the caller may change.
    const input = validateResourceInput(body, schema, context, this.compatOf(ctx));
    for (const item of input.ignored) ctx.ignored?.push(item);
    return input.resource;
  }

  /** The request's compatibility context, made from the tenant's profile and overrides on first use. */
  /**
   * The tenant's flags for this request. Read once, with its `delete_mode`, at the request's first
   * need of either: every step of a Bulk (a copy of the request's context) sees the same settings,
   * whatever the admin API changes meanwhile.
   */
  compatOf(ctx: ScimRequestContext): CompatContext {
    if (!ctx.compat || !ctx.deleteMode) {
      const { compat_profile, compat_overrides, delete_mode } = this.reader(ctx).record;
      ctx.compat ??= CompatContext.forProfile(
        (compat_profile ?? 'compatible') as CompatProfileName,
        compat_overrides as Partial<Record<CompatFlagName, boolean>> | undefined,
      );
      ctx.deleteMode ??= delete_mode === 'deactivate' ? 'deactivate' : 'delete';
    }
    return ctx.compat;
  }

  private deleteModeOf(ctx: ScimRequestContext): 'delete' | 'deactivate' {
    this.compatOf(ctx);
    return ctx.deleteMode as 'delete' | 'deactivate';
  }

  private async hashPassword(
    input: Record<string, unknown>,
    ctx: ScimRequestContext,
    stored?: string,
  ): Promise<string | undefined> {
    const password = input.password;
    delete input.password;
    if (typeof password !== 'string') return undefined;
    return this.hashFor(password, ctx, stored);
  }

  /**
   * The hash to store for a password: the stored one when it is the same password, else a new one.
   * Okta with password sync sends the password on every push; a new salt each time made each push
   * a new version (breaking other clients' If-Match) and a "password changed" record in the history.
   * A changed password costs a verify and a hash; a restated one a verify, as a hash cost before.
   */
  private async hashFor(password: string, ctx: ScimRequestContext, stored: string | undefined): Promise<string> {
    // RFC 7643 §4.1.1 asks for a password prepared for comparison (RFC 7644 §7.8), as PRECIS's
    // OpaqueString does: in NFC, so one password typed in two normal forms is one. A lone
    // surrogate half is no character: UTF-8 made each one U+FFFD, so different passwords hashed alike.
    if (/[\ud800-\udfff]/u.test(password)) {
      throw ScimError.badRequest('invalidValue', 'password must not contain unpaired surrogates.');
    }
    const prepared = password.normalize('NFC');
    const options = { inTurn: ctx.hashInTurn === true };
    if (stored !== undefined) {
      if (await this.deps.hasher.verify(prepared, stored, options)) return stored;
      // Hashed as it came, before passwords were prepared: the same text keeps its hash and version.
      if (prepared !== password && (await this.deps.hasher.verify(password, stored, options))) return stored;
    }
    return this.deps.hasher.hash(prepared, options);
  }

  /** The stored form: canonical attributes, schemas from what is present, no derived fields. */
  private toDoc(
    schema: ResourceSchema,
    kind: ResourceKind,
    input: Record<string, unknown>,
    fixed: { id: string; meta: StoredResource['meta']; passwordHash: string | undefined },
  ): StoredResource {
    const doc: Record<string, unknown> = { ...input };
    delete doc.groups; // derived from memberships
    const extensions = schema.extensions.filter((ext) => doc[ext.id] !== undefined).map((ext) => ext.id);
    doc.schemas = [schema.core.id, ...extensions];
    doc.id = fixed.id;
    doc.meta = fixed.meta;
    if (fixed.passwordHash !== undefined) doc.passwordHash = fixed.passwordHash;
    if (kind === 'Group' && Array.isArray(doc.members)) {
      doc.members = (doc.members as MemberValue[]).map((m) => ({
        value: m.value,
        ...(m.type ? { type: m.type } : {}),
      }));
    }
    return doc as StoredResource;
  }

  private checkVersion(reader: TenantReader, kind: ResourceKind, current: StoredResource, options: WriteOptions): void {
    // The message names the revision, not a tag: the ETag a client read may carry a digest of what
    // is derived (kinds.ts representationTag), and showing the bare stored tag looked like a third one.
    const revision = revisionOf(current.meta.version);
    if (options.ifMatch !== undefined && !etagNamesRevision(options.ifMatch, current.meta.version)) {
      throw new ScimError(
        412,
        `The resource has changed since the version If-Match names: it is now at revision ${revision}. ` +
          'Read it again for its current ETag.',
      );
    }
    // RFC 9110 §13.1.2: compared with the representation's tag, as a GET compares it. A client whose
    // copy lacks a group change since holds another representation, and writes (ETag probe: the
    // revision alone refused it). Worked out only when asked for: it derives the user's groups.
    const ifNoneMatch = options.ifNoneMatch;
    if (
      ifNoneMatch !== undefined &&
      (ifNoneMatch.trim() === '*' || this.namesRepresentation(reader, kind, current, ifNoneMatch))
    ) {
      throw new ScimError(
        412,
        `If-None-Match names the resource's current version (${revision}), so it was not changed.`,
      );
    }
  }

  private namesRepresentation(
    reader: TenantReader,
    kind: ResourceKind,
    current: StoredResource,
    header: string,
  ): boolean {
    // Only a tag of the current revision can be the representation's: the rest costs no `present`
    // (a user's nested groups are walked for it, and a PUT or PATCH checks twice).
    if (!etagNamesRevision(header, current.meta.version)) return false;
    return etagMatches(header, versionOfPresented(present(reader, kind, current, '', { members: false })));
  }

  /** RFC 7643 §7: an immutable attribute may be set once, never changed. */
  private checkImmutable(schema: ResourceSchema, current: StoredResource, input: Record<string, unknown>): void {
    for (const attribute of schema.topLevel) {
      if (attribute.mutability !== 'immutable') continue;
      const before = current[attribute.name];
      const after = input[attribute.name];
      if (before !== undefined && after !== undefined && JSON.stringify(before) !== JSON.stringify(after)) {
        throw ScimError.badRequest('mutability', `${attribute.name} is immutable and cannot be changed.`);
      }
    }
  }

  /**
   * `before`: the resource as stored, for a PUT or PATCH. A value it keeps as it was stored is not
   * checked again: a rule that changed since it was stored (the folding of a final Σ made "ΟΔΟΣ"
   * and "οδοσ", once two users, one name) must not refuse every later write to either, Entra's
   * deactivation and Okta's restating PUT among them. Claiming such a value anew is refused.
   */
  private checkUnique(tx: TenantReader, kind: ResourceKind, doc: StoredResource, before?: StoredResource): void {
    const self = before?.id;
    // Runs in every create and PUT: plain loops over the index's candidates, each key folded once.
    if (kind === 'User' && doc.userName !== before?.userName) {
      const userName = String(doc.userName);
      const key = foldKey(userName);
      for (const id of tx.candidates.lookup({ resource: 'User', index: 'userName', match: 'eq', key })) {
        const user = id === self ? undefined : tx.get('users', id);
        if (user !== undefined && foldKey(user.userName) === key) {
          const value = `userName "${userName}"`;
          throw new ValueTaken(value, id, `${value} is already taken in this tenant.`);
        }
      }
    }
    // An empty externalId is none, as `externalId pr` reads it (RFC 7644 §3.4.2.2: "non-empty"):
    // a client sending "" for "no id" may do so for every user.
    if (typeof doc.externalId === 'string' && doc.externalId !== '' && doc.externalId !== before?.externalId) {
      const externalId = doc.externalId;
      const collection = collectionOf(kind);
      for (const id of tx.candidates.lookup({ resource: kind, index: 'externalId', match: 'eq', key: externalId })) {
        const other = id === self ? undefined : tx.get(collection, id);
        if (other !== undefined && other.externalId === externalId) {
          const value = `externalId "${externalId}"`;
          throw new ValueTaken(value, id, `${value} is already used by another ${kind}.`);
        }
      }
    }
  }

  /**
   * Members must be users or groups of this tenant (RFC 7643 §4.2); duplicates collapse, and `type`
   * is what the member really is, whatever the client said.
   */
  checkMembers(tx: TenantReader, doc: StoredResource, groupId: string): MemberValue[] | undefined {
    if (!Array.isArray(doc.members)) return undefined;
    const seen = new Set<string>();
    const members: MemberValue[] = [];
    for (const member of doc.members) {
      // The schema leaves members.value optional (RFC 7643 §8.7.1), but a member is found by it.
      if (typeof member.value !== 'string' || member.value === '') {
        throw ScimError.badRequest(
          'invalidValue',
          'A member needs a "value": the id of a user or group of this tenant ("$ref" or "display" alone does not name one).',
        );
      }
      if (seen.has(member.value)) continue;
      seen.add(member.value);
      if (member.value === groupId) {
        throw ScimError.badRequest('invalidValue', 'A group cannot be a member of itself.');
      }
      const type = tx.get('users', member.value) ? 'User' : tx.get('groups', member.value) ? 'Group' : undefined;
      if (!type)
        throw ScimError.badRequest(
          'invalidValue',
          `Member ${JSON.stringify(member.value)} is not a user or group of this tenant.`,
        );
      members.push({ value: member.value, type });
    }
    return members;
  }
}

/**
 * Whether `sortBy` names the core `userName` (however spelled: `userName`, `USERNAME`, or with the
 * core schema's URN), the one sort key the store keeps an index in order for.
 */
function sortsByUserName(schema: ResourceSchema, sortBy: string | undefined): boolean {
  if (sortBy === undefined || isBlank(sortBy)) return false;
  let resolved: ReturnType<ResourceSchema['resolve']>;
  try {
    resolved = schema.resolve(parseAttributePath(sortBy.trim()));
  } catch {
    return false; // the sort refuses it with its own message
  }
  return (
    resolved !== undefined &&
    resolved.container === undefined &&
    resolved.sub === undefined &&
    resolved.attribute.name === 'userName'
  );
}

function isBlank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

/** A PATCH result without its change of `password`: the one given is the one already set. */
function withoutPassword(result: PatchResult): PatchResult {
  const other = (attribute: string) => attribute.toLowerCase() !== 'password';
  return {
    ...result,
    changed: result.changed.filter(other),
    changes: result.changes.filter((change) => other(change.attribute)),
  };
}

/** Whether two stored forms of a resource say the same, whatever their meta and key order. */
function sameContent(a: StoredResource, b: StoredResource): boolean {
  // An empty list is unassigned (RFC 7643 §2.5): a group whose members were all removed stores
  // `members: []`, and the same group PUT back without members has no key.
  const content = (doc: StoredResource) =>
    Object.keys(doc).filter((key) => key !== 'meta' && !(Array.isArray(doc[key]) && doc[key].length === 0));
  const keys = content(a);
  if (keys.length !== content(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key] as Json, b[key] as Json));
}

/**
 * The enterprise extension with its manager as stored: for a manager who is a user of this tenant, `$ref` and
 * `displayName` are derived when read (present.ts), so only `value` is kept. Otherwise a GET's
 * answer PUT back would differ from what is stored and make a new version of an unchanged user.
 * A manager from elsewhere keeps what the client said of it.
 */
/**
 * A manager is a user (RFC 7643 §4.3: "The id of the SCIM resource representing the User's
 * manager"), so a group's id is refused. An id of nobody yet is kept, since an IdP may provision
 * the manager after the report; a blank one is accepted too, as some IdPs clear a manager that way
 * (resource-input.ts then keeps no manager).
 */
function checkManager(tenant: TenantReader, enterprise: unknown): void {
  if (!isRecord(enterprise) || !isRecord(enterprise.manager)) return;
  const { value } = enterprise.manager;
  if (typeof value === 'string' && tenant.get('groups', value)) {
    throw ScimError.badRequest(
      'invalidValue',
      `manager.value ${value} is a group of this tenant; a manager is a user.`,
    );
  }
}

function withStoredManager<T>(tenant: TenantReader, enterprise: T): T {
  checkManager(tenant, enterprise);
  if (!isRecord(enterprise) || !isRecord(enterprise.manager)) return enterprise;
  const { value } = enterprise.manager;
  if (typeof value !== 'string' || !tenant.get('users', value)) return enterprise;
  if (Object.keys(enterprise.manager).length === 1) return enterprise;
  return { ...enterprise, manager: { value } } as T;
}

/**
 * Stands for a stored password hash in what the PATCH engine sees. The document keeps the hash
 * under `passwordHash`, which the engine does not know: without this, `remove password` (or a
 * null value under nullAsAbsent) found nothing to remove, answered 200 and kept the password.
 * Random per process, so no password a client sends can equal it.
 */
const PASSWORD_SET = `password-set:${randomUUID()}`;

function withPasswordShown(doc: StoredResource): StoredResource {
  return doc.passwordHash === undefined ? doc : ({ ...doc, password: PASSWORD_SET } as StoredResource);
}

/** A blank `filter` is read as none: some IdPs send `filter=` when they mean "everything". */
/**
 * The longest userName or group displayName, in UTF-16 code units as the filter's limit counts
 * them: a filter naming it (`userName eq "…"`) must fit the filter's 8,192 even when every character
 * is escaped (`\"`). Longer names were made and then could be found by no filter, so an IdP's
 * look-up failed and its create was told 409. Entra's and Okta's names are a hundred or so.
 */
const MAX_NAME_LENGTH = 4000;

/** See MAX_NAME_LENGTH. A longer name stored before the limit and kept as it is is not refused. */
function checkNameLength(kind: ResourceKind, doc: StoredResource, before: StoredResource | undefined): void {
  const attribute = kind === 'User' ? 'userName' : 'displayName';
  const name = doc[attribute];
  if (typeof name !== 'string' || name.length <= MAX_NAME_LENGTH || name === before?.[attribute]) return;
  throw ScimError.badRequest(
    'invalidValue',
    `'${attribute}' is ${name.length.toLocaleString('en-US')} characters long, over the ${MAX_NAME_LENGTH.toLocaleString('en-US')} a filter can name (an IdP looks a name up with a filter of at most 8,192 characters before it creates it).`,
  );
}

function parseQueryFilter(filter: string | undefined): ReturnType<typeof parseFilter> | undefined {
  return filter !== undefined && filter.trim() !== '' ? parseFilter(filter) : undefined;
}

/** A list's matching budget (see filter/work.ts), timed by the process's monotonic clock. */
function listWork(budgetMs: number, refusal?: ConstructorParameters<typeof FilterWork>[3]): FilterWork {
  return new FilterWork(() => performance.now(), budgetMs, undefined, refusal);
}

/** A large group's members, presented and projected a slice at a time as they are pulled. */
function* memberSlices(
  reader: TenantReader,
  members: readonly MemberValue[],
  bare: ResourceData,
  project: Projector,
  baseUrl: string,
): Generator<unknown[], void, undefined> {
  for (let at = 0; at < members.length; at += MEMBER_SLICE) {
    const slice = presentMembers(reader, members.slice(at, at + MEMBER_SLICE), baseUrl);
    const projected = project({ ...bare, members: slice }).members;
    if (Array.isArray(projected) && projected.length > 0) yield projected;
  }
}
