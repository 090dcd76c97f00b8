import { ScimError } from '../errors';
import { isRecord } from '../values';
import { circlesOf, deferForward, type Circle, type Deferral } from './circles';
import {
  BULK_ID_PREFIX,
  isMalformed,
  mapQuotedBulkIds,
  scopeBelow,
  type BulkEntry,
  type BulkOperation,
  type BulkRequest,
  type ReferenceScope,
} from './request';

/**
 * The order a bulk job runs in (RFC 7644 §3.7.2): an operation that uses "bulkId:x" runs after the
 * POST that defines x, whatever order the client wrote them in, and the operations written after
 * it on the same resource wait with it; otherwise request order is kept.
 * POSTs that refer to each other in a circle run together, their forward references deferred to a
 * PATCH (see circles.ts). Operations that cannot run are refused up front with the error they will
 * report:
 * - a reference no POST in the request defines;
 * - a circle that cannot be untangled: a forward reference that is not a Group's member or a User's
 *   manager. RFC 7644 §3.7.1 lets the service provider "return HTTP status code 409 (Conflict)"
 *   after a failed attempt.
 */
export interface BulkPlan {
  readonly request: BulkRequest;
  /** Every operation exactly once, dependencies first; a circle's members next to each other. */
  readonly order: readonly BulkEntry[];
  /** Operations refused before execution, by index. */
  readonly refused: ReadonlyMap<number, ScimError>;
  /** The circle each member of an untangled circle belongs to, by operation index. */
  readonly circles: ReadonlyMap<number, Circle>;
}

export function planBulk(request: BulkRequest): BulkPlan {
  const ops = request.operations;
  const definer = new Map<string, number>();
  const unreadable = new Map<string, number>();
  const refused = new Map<number, ScimError>();
  for (const op of ops) {
    if (isMalformed(op)) {
      refused.set(op.index, op.error);
      if (op.bulkId !== undefined) unreadable.set(op.bulkId, op.index);
    } else if (op.method === 'POST' && op.bulkId !== undefined) definer.set(op.bulkId, op.index);
  }

  const dependsOn: number[][] = ops.map(() => []);
  for (const op of ops) {
    for (const ref of op.references) {
      const d = definer.get(ref);
      if (d === undefined) {
        const cannotRead = unreadable.get(ref);
        refused.set(
          op.index,
          new ScimError(
            409,
            ref === ''
              ? `Operation ${op.index + 1} refers to "bulkId:" with no bulkId after it.`
              : cannotRead !== undefined
                ? `Operation ${op.index + 1} refers to bulkId "${ref}", whose operation ${cannotRead + 1} could not be read.`
                : `Operation ${op.index + 1} refers to bulkId "${ref}", which no POST in this request defines.`,
          ),
        );
        continue;
      }
      dependsOn[op.index]!.push(d);
    }
  }

  // Each circle becomes one unit of the order, named by its last member: it runs where that member
  // sits, so what the request puts between its members and does not depend on it runs first, as
  // written. Every other operation is a unit of its own.
  const unitOf = ops.map((op) => op.index);
  const circles = new Map<number, Circle>();
  for (const indexes of circlesOf(dependsOn)) {
    for (const i of indexes) unitOf[i] = indexes[indexes.length - 1]!;
    // Only POSTs are referred to, so only readable POSTs (and what refers to them) are in circles.
    const members = indexes.map((i) => ops[i] as BulkOperation);
    const untangled = untangle(members);
    if ('refusals' in untangled) {
      for (const [i, error] of untangled.refusals) refused.set(i, error);
    } else {
      const circle: Circle = { members, deferrals: untangled.deferrals };
      for (const i of indexes) circles.set(i, circle);
    }
  }
  // Operations on the same resource keep their written order: one that waits for a later POST
  // holds back the writes to its resource written after it. Without this a later `add` to a group
  // ran before an earlier `replace` of its members that waited for a new user, and the replace
  // then dropped it (RFC 7644 §3.7: "the same stateful result … as for non-optimized processing").
  // These edges never close a circle: only POSTs are waited for, and a POST targets no resource.
  const after = dependsOn.map((deps) => [...deps]);
  const lastOnTarget = new Map<string, number>();
  for (const op of ops) {
    if (isMalformed(op) || op.id === undefined) continue;
    const target = `${op.endpoint.toLowerCase()}/${op.id}`;
    const earlier = lastOnTarget.get(target);
    if (earlier !== undefined) after[op.index]!.push(earlier);
    lastOnTarget.set(target, op.index);
  }

  const unitMembers = new Map<number, number[]>();
  for (const op of ops) pushTo(unitMembers, unitOf[op.index]!, op.index);
  const unitDependents = new Map<number, number[]>();
  const indegree = new Map<number, number>([...unitMembers.keys()].map((unit) => [unit, 0]));
  for (const op of ops) {
    const unit = unitOf[op.index]!;
    for (const d of new Set(after[op.index]!.map((i) => unitOf[i]!))) {
      if (d === unit) continue;
      indegree.set(unit, indegree.get(unit)! + 1);
      pushTo(unitDependents, d, unit);
    }
  }

  // Kahn's algorithm over the units (circles contracted, so no unit waits forever), always taking
  // the lowest-named unit ready, so request order is kept where it can be. An operation that needs
  // a later POST waits for it, rather than the POST being pulled forward: a POST then never runs
  // before what was written ahead of it (a DELETE freeing the userName it takes, say).
  const ready = [...indegree]
    .filter(([, n]) => n === 0)
    .map(([unit]) => unit)
    .sort((a, b) => a - b);
  const order: BulkEntry[] = [];
  while (ready.length > 0) {
    const unit = ready.shift() as number;
    for (const i of unitMembers.get(unit)!) order.push(ops[i]!);
    for (const j of unitDependents.get(unit) ?? []) {
      indegree.set(j, indegree.get(j)! - 1);
      if (indegree.get(j) === 0) insertSorted(ready, j);
    }
  }
  return { request, order, refused, circles };
}

/**
 * What each member of a circle defers, or, when some forward reference cannot be deferred, the
 * 409 each member is refused with.
 */
function untangle(
  members: readonly BulkOperation[],
): { deferrals: Map<number, Deferral> } | { refusals: Map<number, ScimError> } {
  const deferrals = new Map<number, Deferral>();
  let stuck: { op: BulkOperation; error: ScimError } | undefined;
  members.forEach((op, position) => {
    const forward = new Set(members.slice(position).map((m) => m.bulkId as string));
    if (stuck || !op.references.some((ref) => forward.has(ref))) return;
    const deferral = deferForward(op, forward);
    if (deferral && !(op.resourceType === 'Group' && deferral.refs.has(op.bulkId as string))) {
      deferrals.set(op.index, deferral);
      return;
    }
    stuck = {
      op,
      error: deferral
        ? // Nothing to try: the link could never be made, and the group would be created and removed again.
          ScimError.badRequest('invalidValue', `Operation ${op.index + 1}: a group cannot be a member of itself.`)
        : new ScimError(
            409,
            `Operation ${op.index + 1} refers to itself or to a later POST of its circular bulkId reference ` +
              "other than through a Group's members or a User's manager, so the circle cannot be untangled. Create the " +
              'resources first, then link them with PATCH (RFC 7644 §3.7.1).',
          ),
    };
  });
  if (!stuck) return { deferrals };
  const cause = stuck;
  const inCircle = new Set(members.map((m) => m.bulkId as string));
  const refusals = new Map<number, ScimError>();
  for (const op of members) {
    if (op === cause.op) {
      refusals.set(op.index, cause.error);
      continue;
    }
    // Each names only what it itself waits on: listing the whole circle in every operation's
    // error made the answer grow with the square of the circle (1,000 operations: gigabytes).
    const waitsOn = op.references.filter((ref) => inCircle.has(ref));
    refusals.set(
      op.index,
      new ScimError(
        409,
        `Operation ${op.index + 1} waits on ${describeBulkIds(waitsOn)}, part of a circular bulkId reference ` +
          `that cannot be run: operation ${cause.op.index + 1} is refused.`,
      ),
    );
  }
  return { refusals };
}

const NAMED_IN_ERRORS = 3;
const MAX_ID_IN_ERRORS = 64;

/** A few bulkIds, each cut short, for an error detail of bounded size. */
function describeBulkIds(ids: readonly string[]): string {
  const named = ids.slice(0, NAMED_IN_ERRORS).map((id) => {
    const cut = id.length > MAX_ID_IN_ERRORS ? `${id.slice(0, MAX_ID_IN_ERRORS)}…` : id;
    return JSON.stringify(cut);
  });
  const more = ids.length - named.length;
  return `bulkId ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

function pushTo(map: Map<number, number[]>, key: number, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function insertSorted(arr: number[], v: number): void {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  arr.splice(lo, 0, v);
}

/**
 * Replaces bulkId references with the ids they stand for: strings that are exactly "bulkId:x"
 * (member values, a manager) and, in a PATCH operation's path, quoted "bulkId:x" inside its filter
 * (`members[value eq "bulkId:x"]`; see ReferenceScope). Returns a new value; the input is not
 * modified. Unknown references are left as they are (the plan has refused those operations already).
 */
export function resolveBulkIds(value: unknown, ids: ReadonlyMap<string, string>, scope: ReferenceScope): unknown {
  // Left as sent: the service ignores it, and says so in the request log.
  if (scope === 'readOnly') return value;
  if (typeof value === 'string') {
    if (value.startsWith(BULK_ID_PREFIX)) {
      const id = ids.get(value.slice(BULK_ID_PREFIX.length));
      if (id !== undefined) return id;
    }
    return scope === 'patchPath' && value.includes(`"${BULK_ID_PREFIX}`)
      ? mapQuotedBulkIds(value, (ref) => {
          const id = ids.get(ref);
          return id === undefined ? undefined : JSON.stringify(id);
        })
      : value;
  }
  if (Array.isArray(value)) {
    const below = scopeBelow(scope);
    return value.map((v) => resolveBulkIds(v, ids, below));
  }
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    // Object.entries + assignment keeps own keys only; "__proto__" from JSON.parse is an own key,
    // so define it rather than assign it (assignment would set the prototype).
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: resolveBulkIds(v, ids, scopeBelow(scope, k)),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
