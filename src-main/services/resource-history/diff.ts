/**
 * Attribute-level differences between two versions of a SCIM resource, and their application.
 * Pure functions over JSON; `applyChanges(a, diffResources(a, b))` deep-equals `b` for any two
 * JSON objects (property-tested).
 *
 * Multi-valued attributes (`members`, `emails`, `groups`, `schemas`...) are diffed as removed and
 * added elements, so adding one member to a group of 10,000 records one element. The common head
 * and tail are trimmed first, then the differing middle is matched element by element on its
 * content (a member is its `value` plus `display`/`type`: a member whose display changed is one
 * removal and one addition). The diff is linear in the size of the two versions. When the
 * elements that stay change their relative order, the attribute is recorded whole instead: rare
 * in SCIM, and still correct.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type Change =
  /** The value at `path` is now `value` (added or replaced). */
  | { op: 'set'; path: string[]; value: Json }
  /** The value at `path` is gone. */
  | { op: 'unset'; path: string[] }
  /**
   * Elements of the array at `path`: `removed` at their index in the old array (the value is kept
   * for display), then `added` inserted at their index in the new array, both ascending.
   */
  | {
      op: 'elements';
      path: string[];
      removed: { index: number; value: Json }[];
      added: { index: number; value: Json }[];
    };

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Own-property assignment that also works for a key named `__proto__` (JSON can hold one). */
function setOwn(target: JsonObject, key: string, value: Json): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function has(target: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}

/**
 * Elements are matched by their serialization. Equal content written with another key order is
 * then a removal and an addition: still correct (apply matches with the same key), and it keeps
 * matching at the speed of native JSON.stringify instead of a sorted canonical form.
 */
function elementKey(value: Json): string {
  return JSON.stringify(value);
}

/** Deep equality of JSON values, without allocating (the common case is "equal"). */
export function sameJson(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i] as Json, b[i] as Json)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!has(b, key) || !sameJson(a[key] as Json, b[key] as Json)) return false;
  return true;
}

function diffArray(a: Json[], b: Json[], path: string[], out: Change[]): void {
  // Trim the common head and tail first: adding or removing one member of 10,000 leaves a
  // middle of one element, so the keyed matching below only sees what changed.
  let head = 0;
  while (head < a.length && head < b.length && sameJson(a[head] as Json, b[head] as Json)) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    sameJson(a[a.length - 1 - tail] as Json, b[b.length - 1 - tail] as Json)
  ) {
    tail++;
  }
  if (head === a.length && head === b.length) return;
  diffMiddle(a.slice(head, a.length - tail), b.slice(head, b.length - tail), head, b, path, out);
}

/** `a` and `b` are the differing middles; `offset` is where they start in the full new array `full`. */
function diffMiddle(a: Json[], b: Json[], offset: number, full: Json[], path: string[], out: Change[]): void {
  const positions = new Map<string, number[]>();
  b.forEach((element, index) => {
    const key = elementKey(element);
    const list = positions.get(key);
    if (list) list.push(index);
    else positions.set(key, [index]);
  });
  const used = new Map<string, number>();
  const kept = new Uint8Array(b.length);
  const removed: { index: number; value: Json }[] = [];
  let lastKept = -1;
  let ordered = true;
  for (const [i, element] of a.entries()) {
    const key = elementKey(element);
    const taken = used.get(key) ?? 0;
    const index = positions.get(key)?.[taken];
    if (index === undefined) {
      removed.push({ index: i + offset, value: element });
      continue;
    }
    used.set(key, taken + 1);
    kept[index] = 1;
    if (index < lastKept) ordered = false;
    lastKept = index;
  }
  const added: { index: number; value: Json }[] = [];
  b.forEach((value, index) => {
    if (!kept[index]) added.push({ index: index + offset, value });
  });
  if (removed.length === 0 && added.length === 0 && ordered) return;
  // Reordered, or a diff as large as the array itself: the whole value is smaller and simpler.
  if (!ordered || removed.length + added.length >= Math.max(full.length, 1) * 2)
    out.push({ op: 'set', path, value: full });
  else out.push({ op: 'elements', path, removed, added });
}

function diffValue(a: Json, b: Json, path: string[], out: Change[]): void {
  if (Array.isArray(a) && Array.isArray(b)) diffArray(a, b, path, out);
  else if (isObject(a) && isObject(b)) diffObject(a, b, path, out);
  else if (!sameJson(a, b)) out.push({ op: 'set', path, value: b });
}

function diffObject(a: JsonObject, b: JsonObject, path: string[], out: Change[]): void {
  for (const key of Object.keys(a)) if (!has(b, key)) out.push({ op: 'unset', path: [...path, key] });
  for (const key of Object.keys(b)) {
    const next = b[key] as Json;
    if (!has(a, key)) out.push({ op: 'set', path: [...path, key], value: next });
    else diffValue(a[key] as Json, next, [...path, key], out);
  }
}

/** What changed from `before` to `after`, attribute by attribute (paths of object keys). */
export function diffResources(before: JsonObject, after: JsonObject): Change[] {
  const out: Change[] = [];
  diffObject(before, after, [], out);
  return out;
}

function applyElements(current: Json, change: Extract<Change, { op: 'elements' }>): Json[] {
  const array = Array.isArray(current) ? current : [];
  const gone = new Set(change.removed.map((removal) => removal.index));
  const remaining = gone.size === 0 ? array : array.filter((_, i) => !gone.has(i));
  // Merge: added elements land at their index, kept ones fill the rest in order.
  const result: Json[] = [];
  let next = 0;
  for (const { index, value } of change.added) {
    while (result.length < index && next < remaining.length) result.push(remaining[next++] as Json);
    result.push(value);
  }
  while (next < remaining.length) result.push(remaining[next++] as Json);
  return result;
}

/** `resource` with `changes` applied; the input is not modified. */
export function applyChanges(resource: JsonObject, changes: readonly Change[]): JsonObject {
  return applyChangesInPlace(structuredClone(resource), changes);
}

/** Applies `changes` to `root` itself (reconstruction applies many in a row: one copy, not one per version). */
export function applyChangesInPlace(root: JsonObject, changes: readonly Change[]): JsonObject {
  for (const change of changes) {
    if (change.path.length === 0) continue;
    let container: JsonObject = root;
    for (const key of change.path.slice(0, -1)) {
      const child = has(container, key) ? container[key] : undefined;
      if (!isObject(child ?? null)) setOwn(container, key, {});
      container = container[key] as JsonObject;
    }
    const last = change.path.at(-1) as string;
    if (change.op === 'unset') delete container[last];
    else if (change.op === 'set') setOwn(container, last, structuredClone(change.value));
    else setOwn(container, last, applyElements(has(container, last) ? (container[last] as Json) : [], change));
  }
  return root;
}

/** Top-level attribute names a change touched, `meta` left out (it changes every time). */
export function changedAttributes(changes: readonly Change[]): string[] {
  const names = new Set<string>();
  for (const change of changes) {
    const first = change.path[0];
    if (first !== undefined && first !== 'meta') names.add(first);
  }
  return [...names].sort();
}
