import type { ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import type { CompatContext } from '../compat';
import { ScimError } from '../errors';
import { foldKey } from '@shared/scim/index-keys';
import { isRecord } from '../values';

/**
 * Values of multi-valued attributes (RFC 7643 §2.4): when two values are "the same value", adding
 * without duplicates (RFC 7644 §3.5.2.1), and the one-primary rule.
 */

/** A stable JSON text with sorted keys: structural equality for small values. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isRecord(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/**
 * The identity of a value: for complex values with a `value` sub-attribute, that value (folded when
 * it is case-insensitive, RFC 7643 §2.3.1) — a member is the same member whatever its `display` or
 * `type` says; otherwise the whole value but its `primary` (addresses, simple values): `primary`
 * says which value is preferred, not what it is, so adding an address the user has with `primary:
 * true` marks that one rather than storing it twice, as adding an email does.
 */
export function elementKeyFn(a: AttributeDefinition, schema: ResourceSchema): (el: unknown) => string {
  const valueSub = a.type === 'complex' ? schema.subAttribute(a, 'value') : undefined;
  const primary = a.type === 'complex' ? schema.subAttribute(a, 'primary')?.name : undefined;
  // Read with its defaults, as stored: an address POST stored with `primary: false` is the one a
  // PATCH adds without it.
  // Case-insensitive parts folded: a work address added again as WORK is the address already held.
  const whole = (el: unknown) =>
    `j:${canonicalJson(foldedForComparison(a, schema, withoutSub(withElementDefaults(a, el), primary)))}`;
  if (!valueSub) return whole;
  const name = valueSub.name;
  const fold = valueSub.caseExact ? (s: string) => s : foldKey;
  return (el) => {
    const v = isRecord(el) ? el[name] : undefined;
    if (typeof v === 'string') return `v:${fold(v)}`;
    return v === undefined ? whole(el) : `v:${canonicalJson(v)}`;
  };
}

/**
 * A new value as POST and PUT store it: the product defaults (`primary: false`) fill the
 * sub-attributes it lacks. A PATCH stored the value bare, so the same address added again was not
 * found ("already contained", RFC 7644 §3.5.2.1) and was stored twice, and `primary eq false`
 * missed it.
 */
export function withElementDefaults(a: AttributeDefinition, el: unknown): unknown {
  if (a.type !== 'complex' || !isRecord(el)) return el;
  let out: Record<string, unknown> | undefined;
  for (const sub of a.subAttributes) {
    // `primary`; a member's `type` (immutable) is the service's to derive, from what the id names.
    if (sub.default === undefined || sub.mutability !== 'readWrite' || el[sub.name] !== undefined) continue;
    (out ??= { ...el })[sub.name] = sub.default;
  }
  return out ?? el;
}

/**
 * RFC 7644 §3.5.2.1: "If the target location already contains the value specified, no changes
 * SHOULD be made"; a value with the same identity is updated in place with the sub-attributes the
 * new one gives (a new `primary`, a corrected `type`), except immutable ones, which may only be set
 * when the value is created (RFC 7643 §7) and are kept. Returns the new array, or the same array
 * when nothing changed.
 */
export function mergeElements(
  a: AttributeDefinition,
  schema: ResourceSchema,
  current: readonly unknown[],
  incoming: readonly unknown[],
): unknown[] {
  const key = elementKeyFn(a, schema);
  const identity = a.type === 'complex' ? schema.subAttribute(a, 'value')?.name : undefined;
  let out: unknown[] | undefined;
  // A scan is cheaper than a map for the usual one or two new values; a map bounds big batches.
  const index = incoming.length > 4 ? new Map(current.map((el, i) => [key(el), i])) : undefined;
  const find = (k: string, arr: readonly unknown[]) => {
    if (index) return index.get(k) ?? -1;
    for (let i = 0; i < arr.length; i++) if (key(arr[i]) === k) return i;
    return -1;
  };
  const apart = labelledApart(a, schema);
  const same = sameSubValue(a, schema);
  for (const el of incoming) {
    const arr = out ?? current;
    const k = key(el);
    let at = find(k, arr);
    // An address as a work email is another value than the same address as a home one (POST keeps
    // both): merged, adding the work email rewrote the home one's type and lost it.
    if (at >= 0 && apart(arr[at], el)) at = arr.findIndex((other) => key(other) === k && !apart(other, el));
    if (at < 0) {
      out ??= [...current];
      out.push(withElementDefaults(a, el));
      index?.set(k, out.length - 1);
      continue;
    }
    const existing = arr[at];
    if (!isRecord(existing) || !isRecord(el)) continue; // same simple value: no-op
    let changed = false;
    const merged: Record<string, unknown> = { ...existing };
    for (const [sub, v] of Object.entries(el)) {
      // The identity matched (perhaps in another case): the value is "already contained".
      if (sub === identity || same(sub, existing[sub], v)) continue;
      // Immutable parts of an existing value stay as they are: re-adding a member is a no-op even
      // when the client spells its `$ref` or `type` differently.
      if (schema.subAttribute(a, sub)?.mutability === 'immutable' && existing[sub] !== undefined) continue;
      merged[sub] = v;
      changed = true;
    }
    if (changed && !containedElsewhere(arr, at, k, el)) {
      out ??= [...current];
      out[at] = merged;
    }
  }
  return out ?? (current as unknown[]);

  /**
   * Values that share an identity (a work and a home email of one address, which POST keeps) are
   * told apart by the rest: one that already holds all the given value says is "already
   * contained", and merging it into the first of them instead changed a value nobody named.
   * Searched only when a merge would change something, so re-adding a member stays one lookup.
   */
  function containedElsewhere(arr: readonly unknown[], at: number, k: string, el: Record<string, unknown>): boolean {
    return arr.some(
      (other, j) =>
        j !== at &&
        isRecord(other) &&
        key(other) === k &&
        Object.entries(el).every(([sub, v]) => sub === identity || same(sub, other[sub], v)),
    );
  }
}

/**
 * Whether two sub-attribute values are one (RFC 7643 §2.3.1): a case-insensitive string in any
 * case. Compared as written, re-adding an email as `"type": "WORK"` rewrote the stored `work`
 * and moved the version, though RFC 7644 §3.5.2.1 has a value already contained change nothing.
 */
function sameSubValue(
  a: AttributeDefinition,
  schema: ResourceSchema,
): (sub: string, x: unknown, y: unknown) => boolean {
  return (sub, x, y) => {
    if (typeof x === 'string' && typeof y === 'string' && x !== y && caseInsensitive(a, schema, sub)) {
      return foldKey(x) === foldKey(y);
    }
    return canonicalJson(x) === canonicalJson(y);
  };
}

function caseInsensitive(a: AttributeDefinition, schema: ResourceSchema, sub: string): boolean {
  const definition = schema.subAttribute(a, sub);
  return definition?.type === 'string' && !definition.caseExact;
}

/** A value with its case-insensitive string sub-attributes folded: two values equal so are one. */
function foldedForComparison(a: AttributeDefinition, schema: ResourceSchema, el: unknown): unknown {
  if (!isRecord(el)) return el;
  let out: Record<string, unknown> | undefined;
  for (const [sub, v] of Object.entries(el)) {
    if (typeof v === 'string' && caseInsensitive(a, schema, sub)) (out ??= { ...el })[sub] = foldKey(v);
  }
  return out ?? el;
}

/**
 * Whether two values of one identity are told apart by their `type` (`work`, `home`), each having
 * one; not a member's, which is immutable and the service's to derive from what the id names.
 */
function labelledApart(a: AttributeDefinition, schema: ResourceSchema): (el: unknown, other: unknown) => boolean {
  const type = a.type === 'complex' ? schema.subAttribute(a, 'type') : undefined;
  if (!type || type.mutability === 'immutable') return () => false;
  const fold = type.caseExact ? (s: string) => s : foldKey;
  return (el, other) => {
    const mine = isRecord(el) ? el[type.name] : undefined;
    const theirs = isRecord(other) ? other[type.name] : undefined;
    return typeof mine === 'string' && typeof theirs === 'string' && fold(mine) !== fold(theirs);
  };
}

/**
 * A list with each value once: a later value equal to an earlier one in every sub-attribute but
 * `primary` (with the product defaults) is dropped, and the one kept is primary when either was.
 * RFC 7644 §3.5.2.1 adds no value a list already holds, yet a replace that wrote a value already
 * there (`emails[value eq "w@x"]` → the home address the user also had), a whole list given with
 * a value twice, or a POST stored it twice, and a later remove of that value by filter took both.
 * Values that share only an identity (one address as a work and a home email) stay apart.
 * Identities are compared first, so a list whose values all differ there (a group's members)
 * costs one cheap key each. Returns the same array when nothing repeats.
 */
export function withoutRepeats(
  a: AttributeDefinition,
  schema: ResourceSchema,
  list: readonly unknown[],
  onDropped: (count: number) => void,
): unknown[] {
  const key = elementKeyFn(a, schema);
  const keys = list.map(key);
  const seen = new Map<string, number>();
  for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
  if (seen.size === list.length) return list as unknown[];
  const primary = a.type === 'complex' ? schema.subAttribute(a, 'primary')?.name : undefined;
  // The identity is in the key, folded when case-insensitive: `x@y.com` and `X@Y.COM` as home
  // emails are one value, and compared as written they were both kept (a remove by filter took both).
  const identity = a.type === 'complex' ? schema.subAttribute(a, 'value')?.name : undefined;
  const kept: unknown[] = [];
  const keptAt = new Map<string, number>();
  list.forEach((el, i) => {
    if (seen.get(keys[i]!) === 1) return kept.push(el);
    const rest = foldedForComparison(a, schema, withoutSub(withoutSub(withElementDefaults(a, el), primary), identity));
    const whole = `${keys[i]!}\u0000${canonicalJson(rest)}`;
    const at = keptAt.get(whole);
    if (at === undefined) {
      keptAt.set(whole, kept.length);
      return kept.push(el);
    }
    const first = kept[at];
    if (primary && isRecord(el) && el[primary] === true && isRecord(first)) kept[at] = { ...first, [primary]: true };
  });
  if (kept.length < list.length) onDropped(list.length - kept.length);
  return kept.length < list.length ? kept : (list as unknown[]);
}

/** A complex value without one sub-attribute (`primary`, which says which value is preferred, not what it is). */
function withoutSub(el: unknown, name: string | undefined): unknown {
  if (name === undefined || !isRecord(el) || !(name in el)) return el;
  const { [name]: _dropped, ...rest } = el;
  return rest;
}

/** Removes the values whose identity matches one of `values` (Entra's member removal by list). */
export function removeElements(
  a: AttributeDefinition,
  schema: ResourceSchema,
  current: readonly unknown[],
  values: readonly unknown[],
): unknown[] {
  const key = elementKeyFn(a, schema);
  const drop = new Set(values.map(key));
  return current.filter((el) => !drop.has(key(el)));
}

/**
 * RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more than once." A write that
 * sets one value's primary to true sets the others' to false, in every profile: RFC 7644 §3.5.2
 * says a PATCH "SHALL" (strict refused it, as if it were a leniency). A write that itself gives
 * several values primary true contradicts itself: `primaryDemotesOthers` keeps the last of them,
 * and without it the operation is refused.
 */
export function enforceOnePrimary(
  a: AttributeDefinition,
  schema: ResourceSchema,
  arr: unknown[],
  written: () => ReadonlySet<unknown>,
  compat: CompatContext,
  where: string,
): unknown[] {
  const primarySub = a.type === 'complex' ? schema.subAttribute(a, 'primary') : undefined;
  if (!primarySub) return arr;
  const name = primarySub.name;
  const primaries: number[] = [];
  arr.forEach((el, i) => {
    if (isRecord(el) && el[name] === true) primaries.push(i);
  });
  if (primaries.length <= 1) return arr;
  const fresh = written();
  const freshPrimaries = primaries.filter((i) => fresh.has(arr[i]));
  if (freshPrimaries.length !== 1 && !compat.use('primaryDemotesOthers')) {
    throw compat.refuse(
      'primaryDemotesOthers',
      'invalidValue',
      `${where}: more than one value of '${a.name}' would have primary true (RFC 7643 §2.4 allows one)`,
    );
  }
  const newest = freshPrimaries.at(-1) ?? (primaries.at(-1) as number);
  const demoted = new Set(primaries);
  return arr.map((el, i) => (i !== newest && demoted.has(i) && isRecord(el) ? { ...el, [name]: false } : el));
}

export function mutabilityError(where: string, label: string, why: string): ScimError {
  return ScimError.badRequest('mutability', `${where}: '${label}' is ${why}`);
}
