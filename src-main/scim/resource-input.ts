import type { CompatFlagName, CompatFlags } from '@shared/scim/compat-flags';
import type { ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import { canonicalResourceZodSchema } from '@shared/scim/zod-schema';
import { CompatContext, zodOptionsFor } from './compat';
import { ScimError } from './errors';
import { otherMessageIn } from './message-urns';
import {
  acceptNull,
  coerceElements,
  coerceScalar,
  coerceSingularComplex,
  givenOnce,
  unknownAttribute,
  type ValueContext,
} from './patch/coerce';
import { enforceOnePrimary, withoutRepeats } from './patch/elements';
import { isPresent, isRecord } from './values';

/**
 * POST and PUT bodies (RFC 7644 §3.3, §3.5.1) read under a tenant's compatibility flags. The same
 * value rules as PATCH apply first — so "False", a bare manager id or a `null` is accepted or
 * refused by the same named flag, and reported as fired — then the zod view of the schema
 * (`canonicalResourceZodSchema`: the names are canonical by then) checks required attributes and
 * fills the product defaults.
 */
export interface ResourceInput {
  /** Canonical attribute names, defaults filled, readOnly attributes dropped. */
  readonly resource: Record<string, unknown>;
  readonly fired: readonly CompatFlagName[];
  /** Names the body used that were left alone (unknown or readOnly attributes), and why. */
  readonly ignored: readonly { target: string; reason: string }[];
}

export function validateResourceInput(
  body: unknown,
  schema: ResourceSchema,
  context: 'create' | 'replace',
  compat: CompatFlags | CompatContext,
): ResourceInput {
  const ctx = compat instanceof CompatContext ? compat : new CompatContext(compat);
  if (!isRecord(body)) throw ScimError.badRequest('invalidSyntax', 'The request body must be a JSON object.');
  const where = context === 'create' ? 'POST body' : 'PUT body';
  // A PatchOp or SearchRequest sent as a resource is a wrong request, not a loose envelope: refused
  // whatever the flags, as PATCH, .search and Bulk refuse another message's URN.
  const message = otherMessageIn(body['schemas'], schema.core.id);
  if (message !== undefined) {
    throw ScimError.badRequest(
      'invalidSyntax',
      `${where}: "schemas" lists ${message}, a protocol message; send a ${schema.type.name} resource (${schema.core.id}).`,
    );
  }
  const ignored: { target: string; reason: string }[] = [];
  const vctx: ValueContext = {
    schema,
    compat: ctx,
    mode: 'write',
    where,
    ignore: (target, reason) => ignored.push({ target, reason }),
  };
  const out = coerceResourceBody(body, vctx);
  if (ctx.isOn('strictSchemaValidation')) checkListedSchemas(body, out, vctx);
  const parsed = canonicalResourceZodSchema(schema, context, zodOptionsFor(ctx.flags)).safeParse(out);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => {
        const where = i.path.join('.') || '(body)';
        // zod's "expected string, received undefined" for a required attribute left out.
        if (i.code === 'invalid_type' && valueAt(out, i.path) === undefined) return `${where} is required`;
        return `${where}: ${i.message}`;
      })
      .join('; ');
    throw ScimError.badRequest('invalidValue', `${vctx.where}: ${issues}`);
  }
  return { resource: parsed.data, fired: ctx.fired, ignored };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * A body's attributes under their schema spelling, each value read by the PATCH value rules:
 * canonical input for the zod view (see `canonicalResourceZodSchema`). Nulls are gone (accepted
 * as "unassigned" or refused by the flag), unknown and readOnly attributes are left out.
 */
export function coerceResourceBody(body: Record<string, unknown>, vctx: ValueContext): Record<string, unknown> {
  const { schema } = vctx;
  const out: Record<string, unknown> = {};
  const once = givenOnce(vctx);
  for (const [key, value] of Object.entries(body)) {
    const named = schema.schemaOf(key);
    const ext = named === schema.core ? undefined : named;
    if (ext) {
      once(ext.id, key);
      if (value === null) {
        acceptNull(ext.id, vctx);
        continue;
      }
      if (!isRecord(value)) throw ScimError.badRequest('invalidValue', `${vctx.where}: '${ext.id}' must be an object.`);
      const inner: Record<string, unknown> = {};
      const onceInside = givenOnce(vctx);
      for (const [k, v] of Object.entries(value)) {
        const resolved = schema.resolve({ uri: ext.id, name: k });
        if (!resolved || resolved.sub) unknownAttribute(`${ext.id}:${k}`, vctx);
        else {
          onceInside(`${ext.id}:${resolved.attribute.name}`, k);
          writeAttribute(inner, resolved.attribute, v, `${ext.id}:${resolved.attribute.name}`, vctx);
        }
      }
      // As PATCH does (engine.ts deriveSchemas): an extension with nothing in it is not kept.
      if (isPresent(inner)) out[ext.id] = inner;
      continue;
    }
    if (key.toLowerCase() === 'schemas') {
      // The stored list is derived from the content; a null one is simply not given.
      if (value !== null) out['schemas'] = value;
      continue;
    }
    const a = schema.resolve({ uri: schema.core.id, name: key })?.attribute;
    if (!a) unknownAttribute(key, vctx);
    else {
      once(a.name, key);
      writeAttribute(out, a, value, a.name, vctx);
    }
  }
  return out;
}

/**
 * Under `strictSchemaValidation`, a body's `schemas` must say what it is (RFC 7643 §3: REQUIRED,
 * "the schemas ... used to indicate the attributes contained"): the type's core schema, every
 * extension the body fills, and nothing this type does not have. Otherwise the server derives the
 * stored list from the content, so a client that sends none or a wrong one never learns it.
 */
function checkListedSchemas(body: Record<string, unknown>, out: Record<string, unknown>, vctx: ValueContext): void {
  const { schema, compat, where } = vctx;
  // RFC 7644 §3.12 invalidSyntax: the body "did not conform to the request schema", as for .search.
  const refuse = (problem: string) => compat.refuse('strictSchemaValidation', 'invalidSyntax', `${where}: ${problem}`);
  const listed = out['schemas'];
  if (listed === undefined) {
    throw refuse(`'schemas' is required and must list ${schema.core.id}.`);
  }
  // Not a list of strings: the zod view refuses it with the attribute's type.
  if (!Array.isArray(listed) || !listed.every((urn) => typeof urn === 'string')) return;
  const named = new Set(listed.map((urn) => urn.toLowerCase()));
  for (const urn of listed) {
    if (!schema.schemaOf(urn)) throw refuse(`'schemas' lists ${urn}, which is not a schema of this resource type.`);
  }
  if (!named.has(schema.core.id.toLowerCase())) throw refuse(`'schemas' must list ${schema.core.id}.`);
  for (const key of Object.keys(body)) {
    const ext = schema.schemaOf(key);
    if (ext && ext !== schema.core && body[key] !== null && !named.has(ext.id.toLowerCase())) {
      throw refuse(`the body fills ${ext.id}, which 'schemas' does not list.`);
    }
  }
}

function writeAttribute(
  into: Record<string, unknown>,
  a: AttributeDefinition,
  value: unknown,
  label: string,
  vctx: ValueContext,
): void {
  // RFC 7644 §3.3 / §3.5.1: readOnly values in a POST or PUT body are ignored.
  if (a.mutability === 'readOnly') {
    vctx.ignore(label, 'readOnly');
    return;
  }
  if (value === null) {
    acceptNull(label, vctx);
    return;
  }
  if (a.multiValued) {
    const els = withoutRepeats(a, vctx.schema, coerceElements(a, value, label, vctx), (count) =>
      vctx.ignore(label, `${count} value(s) equal to another in the list; kept once`),
    );
    const all = new Set(els);
    if (els.length > 0) into[a.name] = enforceOnePrimary(a, vctx.schema, els, () => all, vctx.compat, vctx.where);
    return;
  }
  if (a.type === 'complex') {
    const c = coerceSingularComplex(a, value, label, vctx);
    for (const k of Object.keys(c)) if (c[k] === null) delete c[k];
    // A blank manager (`{"value": ""}`) is no manager, as in PATCH (engine.ts mergeComplex):
    // stored as given, it was shown by GET and then cleared by a PATCH restating it.
    if (isPresent(c)) into[a.name] = c;
    return;
  }
  into[a.name] = coerceScalar(a, value, label, vctx);
}
