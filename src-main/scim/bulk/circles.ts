import { SCIM_URN } from '@shared/scim/urns';
import { isRecord, keysNamed } from '../values';
import { BULK_ID_PREFIX, referencesIn, type BulkOperation } from './request';

/**
 * Circular bulkId references (RFC 7644 §3.7.1): the service provider "MUST try to resolve circular
 * cross-references between resources in a single bulk job but MAY stop after a failed attempt and
 * instead return HTTP status code 409 (Conflict)".
 *
 * A circle is a set of POSTs that reach each other through their references (a strongly connected
 * component of the "refers to" graph, or one POST naming itself). Its POSTs run in request order.
 * A reference to a POST that runs later in the circle, or to the POST itself, cannot be resolved
 * when the POST runs, so it is deferred: the POST creates its resource without it, and once every
 * POST of the circle has run, a PATCH adds it. This is the RFC's own example, two groups that are
 * each other's member.
 *
 * Only references a PATCH can add afterwards are deferred: a Group's member (`members[].value`) and
 * a User's manager (the enterprise extension's `manager.value`). A circle with any other forward
 * reference (a bulkId in a displayName, say) cannot be untangled and is refused with 409.
 */
export interface Circle {
  /** The circle's POSTs in request order, the order they run in. */
  readonly members: readonly BulkOperation[];
  /** What each member defers, by operation index; members with no forward reference are absent. */
  readonly deferrals: ReadonlyMap<number, Deferral>;
}

export interface Deferral {
  /** The POST's data without the deferred references. */
  readonly data: unknown;
  /** The PatchOp that adds them once the circle's resources exist; its bulkIds are still unresolved. */
  readonly link: Record<string, unknown>;
  /** The bulkIds deferred. */
  readonly refs: ReadonlySet<string>;
}

/**
 * The strongly connected components of the graph `dependsOn` describes that hold a circle: two or
 * more operations, or one that depends on itself. Each component's indexes are ascending.
 * Tarjan's algorithm with an explicit stack: a chain of 1,000 operations must not recurse 1,000 deep.
 */
export function circlesOf(dependsOn: readonly (readonly number[])[]): number[][] {
  const count = dependsOn.length;
  const order = new Array<number>(count).fill(-1);
  const low = new Array<number>(count).fill(0);
  const onStack = new Array<boolean>(count).fill(false);
  const stack: number[] = [];
  const circles: number[][] = [];
  let next = 0;
  for (let root = 0; root < count; root++) {
    if (order[root] !== -1) continue;
    // Each frame: the node and how many of its edges it has followed.
    const frames: [number, number][] = [[root, 0]];
    order[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = true;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as [number, number];
      const [node, edge] = frame;
      const edges = dependsOn[node] as readonly number[];
      if (edge < edges.length) {
        frame[1]++;
        const to = edges[edge] as number;
        if (order[to] === -1) {
          order[to] = low[to] = next++;
          stack.push(to);
          onStack[to] = true;
          frames.push([to, 0]);
        } else if (onStack[to]) {
          low[node] = Math.min(low[node] as number, order[to] as number);
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]] as number, low[node] as number);
      if (low[node] !== order[node]) continue;
      const component: number[] = [];
      for (;;) {
        const member = stack.pop() as number;
        onStack[member] = false;
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1 || edges.includes(node)) circles.push(component.sort((a, b) => a - b));
    }
  }
  return circles;
}

/**
 * Splits a POST's data into what it creates now and the PatchOp that adds its references to
 * `forward` later. Undefined when some reference to `forward` is where a PATCH cannot add it later.
 */
export function deferForward(op: BulkOperation, forward: ReadonlySet<string>): Deferral | undefined {
  if (!isRecord(op.data)) return undefined;
  const refs = new Set<string>();
  /** Whether a value is a forward reference; it is noted as deferred when it is. */
  const defers = (value: unknown) => {
    if (typeof value !== 'string' || !value.startsWith(BULK_ID_PREFIX)) return false;
    const ref = value.slice(BULK_ID_PREFIX.length);
    if (!forward.has(ref)) return false;
    refs.add(ref);
    return true;
  };
  const data: Record<string, unknown> = { ...op.data };
  let link: Record<string, unknown> | undefined;
  if (op.resourceType === 'Group') {
    const deferred: unknown[] = [];
    let givenAlone = false;
    for (const key of keysNamed(data, 'members')) {
      const members = data[key];
      // A lone member object (not a list) is the lenient form `singleValueForMultiValued` reads.
      if (isRecord(members) && defers(valueOf(members))) {
        deferred.push(members);
        givenAlone = true;
        data[key] = [];
        continue;
      }
      if (!Array.isArray(members)) continue;
      // One pass: a 4 MiB request may list a million members.
      const now: unknown[] = [];
      for (const member of members) (isRecord(member) && defers(valueOf(member)) ? deferred : now).push(member);
      data[key] = now;
    }
    // The link adds the members in the form they came in, so the PATCH is read under the same
    // compatibility flags the POST would have been.
    if (deferred.length > 0) link = patchOp('members', givenAlone && deferred.length === 1 ? deferred[0] : deferred);
  } else if (op.resourceType === 'User') {
    for (const key of keysNamed(data, SCIM_URN.enterpriseUser)) {
      const enterprise = data[key];
      if (!isRecord(enterprise)) continue;
      for (const managerKey of keysNamed(enterprise, 'manager')) {
        const manager = enterprise[managerKey];
        if (link || !defers(managerRef(manager))) continue;
        const rest = { ...enterprise };
        delete rest[managerKey];
        data[key] = rest;
        // As given (an object, a bare id, a one-element list): the PATCH reads it as the POST would.
        link = patchOp(`${SCIM_URN.enterpriseUser}:manager`, manager);
      }
    }
  }
  if (!link) return undefined;
  const left = referencesIn(data, 'resource'); // a POST's data
  for (const ref of forward) if (left.has(ref)) return undefined;
  return { data, link, refs };
}

/**
 * The reference a manager holds in each form a POST may give it: `{"value": …}`, Entra ID's bare id
 * (`bareManagerId`) or a one-element list (`singleElementListForSingular`).
 */
function managerRef(manager: unknown): unknown {
  if (typeof manager === 'string') return manager;
  const one = Array.isArray(manager) && manager.length === 1 ? manager[0] : manager;
  return isRecord(one) ? valueOf(one) : undefined;
}

function valueOf(record: Record<string, unknown>): unknown {
  const [key] = keysNamed(record, 'value');
  return key === undefined ? undefined : record[key];
}

function patchOp(path: string, value: unknown): Record<string, unknown> {
  return { schemas: [SCIM_URN.patchOp], Operations: [{ op: 'add', path, value }] };
}
