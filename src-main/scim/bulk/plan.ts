import { ScimError } from '../errors';
import { isRecord } from '../values';
import { BULK_ID_PREFIX, mapQuotedBulkIds, type BulkOperation, type BulkRequest } from './request';

/**
 * The order a bulk job runs in (RFC 7644 §3.7.2): an operation that uses "bulkId:x" runs after the
 * POST that defines x, whatever order the client wrote them in; otherwise request order is kept.
 * Operations that cannot run are refused up front with the error they will report:
 * - a reference no POST in the request defines;
 * - a circular reference (A's members name B, B's name A; or a POST naming itself). RFC 7644 §3.7.1
 *   lets the service provider "return HTTP status code 409 (Conflict)" rather than create-then-patch.
 */
export interface BulkPlan {
  readonly request: BulkRequest;
  /** Every operation exactly once, dependencies first. */
  readonly order: readonly BulkOperation[];
  /** Operations refused before execution, by index. */
  readonly refused: ReadonlyMap<number, ScimError>;
}

export function planBulk(request: BulkRequest): BulkPlan {
  const ops = request.operations;
  const definer = new Map<string, number>();
  for (const op of ops) if (op.method === 'POST' && op.bulkId !== undefined) definer.set(op.bulkId, op.index);

  const refused = new Map<number, ScimError>();
  const dependsOn: number[][] = ops.map(() => []);
  const dependents: number[][] = ops.map(() => []);
  for (const op of ops) {
    for (const ref of op.references) {
      const d = definer.get(ref);
      if (d === undefined) {
        refused.set(
          op.index,
          new ScimError(
            409,
            `Operation ${op.index + 1} refers to bulkId "${ref}", which no POST in this request defines.`,
          ),
        );
        continue;
      }
      dependsOn[op.index]!.push(d);
      dependents[d]!.push(op.index);
    }
  }

  // Kahn's algorithm, always taking the lowest ready index, so request order is kept where it can be.
  const indegree = dependsOn.map((d) => d.length);
  const ready = ops.filter((op) => indegree[op.index] === 0).map((op) => op.index);
  const order: BulkOperation[] = [];
  while (ready.length > 0) {
    const i = ready.shift() as number;
    order.push(ops[i]!);
    for (const j of dependents[i]!) {
      indegree[j]!--;
      if (indegree[j] === 0) insertSorted(ready, j);
    }
  }
  if (order.length < ops.length) {
    const isStuck = (i: number) => indegree[i]! > 0;
    for (const op of ops.filter((o) => isStuck(o.index))) {
      // Each names only what it itself waits on: listing the whole cycle in every operation's
      // error made the answer grow with the square of the cycle (1,000 operations: gigabytes).
      const waitsOn = [...new Set(op.references.filter((ref) => isStuck(definer.get(ref) ?? -1)))];
      refused.set(
        op.index,
        new ScimError(
          409,
          `Operation ${op.index + 1} waits on ${describeBulkIds(waitsOn)}, part of or behind a circular bulkId ` +
            'reference; create the resources first, then link them with PATCH (RFC 7644 §3.7.1).',
        ),
      );
      order.push(op);
    }
  }
  return { request, order, refused };
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
 * Replaces bulkId references with the ids they stand for, anywhere in a value: strings that are
 * exactly "bulkId:x" (member values, a manager) and quoted "bulkId:x" inside strings (a PATCH
 * path's filter, `members[value eq "bulkId:x"]`). Returns a new value; the input is not modified.
 * Unknown references are left as they are (the plan has refused those operations already).
 */
export function resolveBulkIds(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    if (value.startsWith(BULK_ID_PREFIX)) {
      const id = ids.get(value.slice(BULK_ID_PREFIX.length));
      if (id !== undefined) return id;
    }
    return value.includes(`"${BULK_ID_PREFIX}`)
      ? mapQuotedBulkIds(value, (ref) => {
          const id = ids.get(ref);
          return id === undefined ? undefined : JSON.stringify(id);
        })
      : value;
  }
  if (Array.isArray(value)) return value.map((v) => resolveBulkIds(v, ids));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    // Object.entries + assignment keeps own keys only; "__proto__" from JSON.parse is an own key,
    // so define it rather than assign it (assignment would set the prototype).
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: resolveBulkIds(v, ids),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
