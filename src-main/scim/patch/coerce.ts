import { isBase64 } from '@shared/scim/base64';
import { parseDateTime } from '@shared/scim/datetime';
import type { ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import type { CompatContext } from '../compat';
import { ScimError } from '../errors';
import { isRecord } from '../values';

/**
 * Turns a client-supplied value into the stored shape of one attribute: names in their schema
 * spelling (RFC 7643 §2.1, case-insensitive), types checked (RFC 7643 §2.3), and the compatibility
 * leniencies applied — each one only through `ctx.compat`, so it is reported or refused by name.
 *
 * Output objects are built key by key from the schema's own names, never by copying the input, so
 * no input key (`__proto__`, `constructor`, an unknown attribute) can reach the stored resource.
 */
export interface ValueContext {
  readonly schema: ResourceSchema;
  readonly compat: CompatContext;
  /** Which request the value comes from (PATCH, or a POST/PUT body). */
  readonly mode: 'patch' | 'write';
  /** Prefix for error details, e.g. "Operation 2 (add emails)". */
  readonly where: string;
  /** Records a name the request used that was left alone. */
  ignore(target: string, reason: string): void;
}

export function invalidValue(ctx: ValueContext, message: string): ScimError {
  return ScimError.badRequest('invalidValue', `${ctx.where}: ${message}`);
}

/**
 * One attribute given twice under two spellings (`userName` and `USERNAME`): names are
 * case-insensitive (RFC 7643 §2.1), so it is one attribute with two values, and keeping the last
 * one would silently drop the other.
 */
export function givenTwice(ctx: ValueContext, name: string, earlier: string, later: string): ScimError {
  return ScimError.badRequest(
    'invalidSyntax',
    `${ctx.where}: '${name}' is given twice, as "${earlier}" and "${later}" (attribute names are case-insensitive, RFC 7643 §2.1).`,
  );
}

/**
 * Refuses an attribute an object names twice under two spellings (`displayName` and
 * `DISPLAYNAME`): which one the client meant cannot be told, and the last one silently won.
 */
export function givenOnce(ctx: ValueContext): (name: string, key: string) => void {
  const spelled = new Map<string, string>();
  return (name, key) => {
    const earlier = spelled.get(name);
    if (earlier !== undefined) throw givenTwice(ctx, name, earlier, key);
    spelled.set(name, key);
  };
}

/**
 * A short excerpt of a value for an error message; bounded in depth and width, so hostile input
 * (deeply nested or huge) costs nothing to describe. The value of an attribute that is never
 * returned (`password`) is described by its shape alone: error messages reach the client and the
 * request log, and the log's redaction removes a secret only where it finds it whole.
 */
function show(a: AttributeDefinition, v: unknown): string {
  if (a.returned === 'never') return `${shapeOf(v)} (not shown: '${a.name}' is never returned)`;
  const text = preview(v, 2);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function shapeOf(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${article(typeof v)} ${typeof v}`;
}

function preview(v: unknown, depth: number): string {
  if (Array.isArray(v)) {
    if (depth === 0) return '[...]';
    const head = v.slice(0, 3).map((x) => preview(x, depth - 1));
    return `[${head.join(',')}${v.length > 3 ? ',...' : ''}]`;
  }
  if (v !== null && typeof v === 'object') {
    if (depth === 0) return '{...}';
    const keys = Object.keys(v);
    const head = keys
      .slice(0, 3)
      .map((k) => `${JSON.stringify(k)}:${preview((v as Record<string, unknown>)[k], depth - 1)}`);
    return `{${head.join(',')}${keys.length > 3 ? ',...' : ''}}`;
  }
  if (typeof v === 'string' && v.length > 60) return JSON.stringify(v.slice(0, 60));
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would show as "null".
  if (typeof v === 'number' && !Number.isFinite(v)) return 'a number out of range (over 1.8e308)';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s;
}

/** One value of a non-complex attribute or sub-attribute. */
export function coerceScalar(a: AttributeDefinition, v: unknown, label: string, ctx: ValueContext): unknown {
  switch (a.type) {
    case 'string':
    case 'reference':
      if (typeof v === 'string') return v;
      break;
    case 'binary':
      if (typeof v === 'string' && isBase64(v)) return v;
      throw invalidValue(ctx, `'${label}' must be base64 text, got ${show(a, v)}`);
    case 'boolean': {
      if (typeof v === 'boolean') return v;
      const lower = typeof v === 'string' ? v.toLowerCase() : undefined;
      if (lower === 'true' || lower === 'false') {
        // RFC 7643 §2.3.2 wants the JSON literal; Entra ID sends "True"/"False".
        if (ctx.compat.use('booleanStrings')) return lower === 'true';
        throw ctx.compat.refuse(
          'booleanStrings',
          'invalidValue',
          `${ctx.where}: '${label}' must be the JSON literal true or false, got the string ${show(a, v)}`,
        );
      }
      break;
    }
    case 'integer':
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      break;
    case 'decimal':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      break;
    case 'dateTime':
      if (typeof v === 'string' && parseDateTime(v) !== undefined) return v;
      throw invalidValue(ctx, `'${label}' must be an xsd:dateTime such as "2011-05-13T04:42:34Z", got ${show(a, v)}`);
    case 'complex':
      // RFC 7643 §2.3.8: sub-attributes are never complex, so this only happens for a bad definition.
      throw invalidValue(ctx, `'${label}' cannot hold a complex value here`);
  }
  throw invalidValue(ctx, `'${label}' must be ${article(a.type)} ${a.type}, got ${show(a, v)}`);
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? 'an' : 'a';
}

/**
 * RFC 7643 §2.5 equates null with unassigned; `nullAsAbsent` accepts it (strict refuses, so a client
 * learns it sends nulls). Returns true when the null may be read as "unassigned".
 */
export function acceptNull(label: string, ctx: ValueContext): true {
  if (ctx.compat.use('nullAsAbsent')) return true;
  throw ctx.compat.refuse('nullAsAbsent', 'invalidValue', `${ctx.where}: '${label}' is null`);
}

/**
 * A complex value: each known sub-attribute coerced. With `keepNulls`, a sub-attribute given as
 * null stays null in the output (the caller merges it as "unassign"); otherwise nulls are dropped.
 */
export function coerceComplex(
  a: AttributeDefinition,
  v: Record<string, unknown>,
  label: string,
  ctx: ValueContext,
  keepNulls: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Sub-attributes given as null, to tell `{"givenName": null, "GIVENNAME": "x"}` from one spelling;
  // made only when a null comes, as most values have none.
  let nulled: Set<string> | undefined;
  for (const [key, raw] of Object.entries(v)) {
    const sub = ctx.schema.subAttribute(a, key);
    const subLabel = `${label}.${sub?.name ?? key}`;
    if (!sub) {
      unknownAttribute(subLabel, ctx);
      continue;
    }
    if (sub.mutability === 'readOnly') {
      readOnlyInValue(subLabel, ctx);
      continue;
    }
    if (Object.hasOwn(out, sub.name) || nulled?.has(sub.name)) {
      const earlier = Object.keys(v).find((k) => k !== key && ctx.schema.subAttribute(a, k) === sub) ?? sub.name;
      throw givenTwice(ctx, subLabel, earlier, key);
    }
    if (raw === null || raw === undefined) {
      (nulled ??= new Set()).add(sub.name);
      if (raw === null && acceptNull(subLabel, ctx) && keepNulls) out[sub.name] = null;
      continue;
    }
    out[sub.name] = sub.multiValued
      ? coerceList(sub, raw, subLabel, ctx).map((x) => coerceScalar(sub, x, subLabel, ctx))
      : coerceScalar(sub, raw, subLabel, ctx);
  }
  return out;
}

/** An attribute name no schema of the resource type defines (RFC 7644 §3.3 lets us ignore it). */
export function unknownAttribute(label: string, ctx: ValueContext): void {
  if (ctx.compat.isOn('strictSchemaValidation')) {
    throw ctx.compat.refuse(
      'strictSchemaValidation',
      'invalidValue',
      `${ctx.where}: '${label}' is not an attribute of this resource type`,
    );
  }
  ctx.ignore(label, 'not an attribute of this resource type');
}

/**
 * A readOnly sub-attribute inside a written value (`members[].display`, `manager.displayName`) is
 * dropped, not refused: RFC 7644 §3.5.2.1's own example adds a member with `display`, which
 * scimdesk derives (readOnly) rather than stores, and POST/PUT ignore readOnly values (§3.3, §3.5.1).
 */
function readOnlyInValue(label: string, ctx: ValueContext): void {
  ctx.ignore(label, 'readOnly (RFC 7643 §7): derived by the server, ignored in written values');
}

/** The elements of a multi-valued value; one bare element is wrapped when the flag allows it. */
function coerceList(a: AttributeDefinition, v: unknown, label: string, ctx: ValueContext): unknown[] {
  if (Array.isArray(v)) return v;
  if (ctx.compat.use('singleValueForMultiValued')) return [v];
  throw ctx.compat.refuse(
    'singleValueForMultiValued',
    'invalidValue',
    `${ctx.where}: '${label}' is multi-valued; give its values as a JSON array`,
  );
}

/** The new elements of a multi-valued attribute (RFC 7643 §2.4); nulls dropped, complex ones coerced. */
export function coerceElements(a: AttributeDefinition, v: unknown, label: string, ctx: ValueContext): unknown[] {
  const out: unknown[] = [];
  for (const el of coerceList(a, v, label, ctx)) {
    if (el === null || el === undefined) {
      acceptNull(label, ctx);
      continue;
    }
    out.push(coerceElement(a, el, label, ctx));
  }
  return out;
}

/** One element of a multi-valued attribute. */
export function coerceElement(a: AttributeDefinition, el: unknown, label: string, ctx: ValueContext): unknown {
  if (a.type !== 'complex') return coerceScalar(a, el, label, ctx);
  if (!isRecord(el)) throw invalidValue(ctx, `each value of '${label}' must be an object, got ${show(a, el)}`);
  const c = coerceComplex(a, el, label, ctx, false);
  if (Object.keys(c).length === 0) {
    // What was given is known to be ignored (readOnly like a member's display) or unknown: say what counts.
    const writable = a.subAttributes.filter((sub) => sub.mutability !== 'readOnly').map((sub) => sub.name);
    throw invalidValue(ctx, `a value of '${label}' needs at least one of ${writable.join(', ')}; got ${show(a, el)}`);
  }
  return c;
}

/**
 * A whole singular complex value. Entra ID gives `manager` as a bare id: with `bareManagerId` a
 * string becomes `{ value }` for any singular complex attribute that has a `value` sub-attribute.
 */
export function coerceSingularComplex(
  a: AttributeDefinition,
  v: unknown,
  label: string,
  ctx: ValueContext,
): Record<string, unknown> {
  const one = Array.isArray(v) ? onlyElement(v, label, ctx) : v;
  if (isRecord(one)) return coerceComplex(a, one, label, ctx, true);
  const valueSub = ctx.schema.subAttribute(a, 'value');
  if (typeof one === 'string' && valueSub) {
    if (ctx.compat.use('bareManagerId')) return { [valueSub.name]: one };
    throw ctx.compat.refuse(
      'bareManagerId',
      'invalidValue',
      `${ctx.where}: '${label}' is complex; give {"value": ${show(a, one)}} rather than a bare string`,
    );
  }
  throw invalidValue(ctx, `'${label}' is complex; give an object of its sub-attributes, got ${show(a, v)}`);
}

/**
 * The value inside a one-element list given for a singular attribute: Microsoft's SCIM tutorial
 * (its Example 5) shows Entra ID adding the manager as `[{"$ref": ..., "value": id}]`. Any other
 * list is returned as it came, for the caller to refuse as not an object.
 */
function onlyElement(list: unknown[], label: string, ctx: ValueContext): unknown {
  if (list.length !== 1 || Array.isArray(list[0])) return list;
  if (ctx.compat.use('singleElementListForSingular')) return list[0];
  throw ctx.compat.refuse(
    'singleElementListForSingular',
    'invalidValue',
    `${ctx.where}: '${label}' is single-valued; give its value without the list around it`,
  );
}
