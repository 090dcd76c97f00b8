import { z } from 'zod';
import { isBase64 } from './base64';
import { parseDateTime } from './datetime';
import type { ResourceSchema } from './registry';
import type { AttributeDefinition, SchemaDefinition } from './schema-types';

/**
 * The contexts one schema is viewed in (STYLE.md 8, after scim2-models `context.py`):
 * - create (POST) and replace (PUT): readOnly attributes are dropped (RFC 7643 §7: "ignored" on
 *   write), required ones are required, product defaults fill absent values (DESIGN.md §3);
 * - response: everything optional, `returned: never` (password) absent, no defaults invented.
 */
export type SchemaContext = 'create' | 'replace' | 'response';

export interface ZodSchemaOptions {
  /**
   * The `compatible` profile's leniency (DESIGN.md §3): the strings "True"/"False" for booleans and
   * a bare string for a singular complex attribute that has a `value` (Entra's `manager`).
   */
  lenient?: boolean;
  /** The `booleanStrings` compatibility flag alone (overrides `lenient` for booleans when given). */
  booleanStrings?: boolean;
  /** The `bareManagerId` compatibility flag alone (overrides `lenient` for bare strings when given). */
  bareStringValue?: boolean;
}

/** The two leniencies, resolved from the options. */
interface Leniency {
  readonly booleans: boolean;
  readonly bareValue: boolean;
}

type Shape = Record<string, z.ZodType>;

/**
 * Derives a zod schema for one resource type in one context. Input is first canonicalised: attribute
 * names and extension URNs are matched case-insensitively (RFC 7643 §2.1) and rewritten to their
 * schema spelling, and `null` values are dropped (RFC 7644 §3.5.1 reads null as "unassigned").
 * Attributes no schema defines are stripped, as RFC 7644 §3.3 lets a service provider do.
 */
/** Built schemas, per resource type, context and options: building is costly, the result is pure. */
interface BuiltSchemas {
  /** Canonicalizes first: for input as a client wrote it. */
  readonly any: z.ZodType<Record<string, unknown>>;
  /** The object alone: for input already canonical. */
  readonly canonical: z.ZodType<Record<string, unknown>>;
}
const built = new WeakMap<ResourceSchema, Map<string, BuiltSchemas>>();

function builtFor(schema: ResourceSchema, context: SchemaContext, options: ZodSchemaOptions): BuiltSchemas {
  let cache = built.get(schema);
  if (!cache) built.set(schema, (cache = new Map()));
  const key = `${context}|${options.lenient}|${options.booleanStrings}|${options.bareStringValue}`;
  let schemas = cache.get(key);
  if (!schemas) cache.set(key, (schemas = buildResourceZodSchemas(schema, context, options)));
  return schemas;
}

export function resourceZodSchema(
  schema: ResourceSchema,
  context: SchemaContext,
  options: ZodSchemaOptions = {},
): z.ZodType<Record<string, unknown>> {
  return builtFor(schema, context, options).any;
}

/**
 * The same checks and defaults as `resourceZodSchema`, for input that is canonical already: every
 * name in its schema spelling, extensions under their URN, no `null`, no bare string for a complex
 * value (what `validateResourceInput` builds). It skips the canonicalizing copy, which for such
 * input gives back an equal object, on every POST and PUT.
 */
export function canonicalResourceZodSchema(
  schema: ResourceSchema,
  context: SchemaContext,
  options: ZodSchemaOptions = {},
): z.ZodType<Record<string, unknown>> {
  return builtFor(schema, context, options).canonical;
}

function buildResourceZodSchemas(
  schema: ResourceSchema,
  context: SchemaContext,
  options: ZodSchemaOptions,
): BuiltSchemas {
  const lenient: Leniency = {
    booleans: options.booleanStrings ?? options.lenient ?? false,
    bareValue: options.bareStringValue ?? options.lenient ?? false,
  };
  const shape: Shape = {};
  for (const a of schema.topLevel) addAttribute(shape, a, context, lenient);
  for (const ext of schema.extensions) shape[ext.id] = objectFor(ext.attributes, context, lenient).optional();
  const object = z.object(shape) as z.ZodType<Record<string, unknown>>;
  const any = z.preprocess(
    (input) => canonicalize(input, schema.topLevel, schema.extensions, lenient),
    object,
  ) as z.ZodType<Record<string, unknown>>;
  return { any, canonical: object };
}

function included(a: AttributeDefinition, context: SchemaContext): boolean {
  if (context === 'response') return a.returned !== 'never';
  return a.mutability !== 'readOnly';
}

function addAttribute(shape: Shape, a: AttributeDefinition, context: SchemaContext, lenient: Leniency): void {
  if (!included(a, context)) return;
  let t = valueType(a, context, lenient);
  if (a.multiValued) t = z.array(t);
  if (context !== 'response' && a.default !== undefined) {
    shape[a.name] = t.optional().default(a.default as never);
  } else if (context !== 'response' && a.required && a.name !== 'schemas') {
    // `schemas` is required by RFC 7643 §3 but optional on write: seed 000 defaults it, and the
    // server derives the stored list from the content (which extensions are present).
    // A required string must say something: RFC 7643 §4.1.1 asks for "a non-empty userName", and
    // a blank one (or a blank group displayName) names nobody.
    shape[a.name] = a.type === 'string' && !a.multiValued ? (t as z.ZodString).superRefine(checkRequiredString) : t;
  } else if (context === 'response' && (a.name === 'id' || a.name === 'schemas')) {
    // RFC 7643 §3: every representation has these.
    shape[a.name] = t;
  } else {
    shape[a.name] = t.optional();
  }
}

function objectFor(attrs: readonly AttributeDefinition[], context: SchemaContext, lenient: Leniency) {
  const shape: Shape = {};
  for (const a of attrs) addAttribute(shape, a, context, lenient);
  return z.object(shape);
}

function valueType(a: AttributeDefinition, context: SchemaContext, lenient: Leniency): z.ZodType {
  switch (a.type) {
    case 'string':
    case 'reference':
      return z.string();
    case 'binary':
      return z.string().refine(isBase64, 'must be base64 (RFC 4648 §4: whole groups of four characters)');
    case 'boolean':
      return lenient.booleans ? z.preprocess(lenientBoolean, z.boolean()) : z.boolean();
    case 'integer':
      return z.number().int();
    case 'decimal':
      return z.number();
    case 'dateTime':
      return z
        .string()
        .refine((s) => parseDateTime(s) !== undefined, 'must be an xsd:dateTime, e.g. 2011-05-13T04:42:34Z');
    case 'complex':
      return objectFor(a.subAttributes, context, lenient);
  }
}

/** White space, and the format characters that show nothing (zero-width space, joiners, BOM). */
const BLANK = /^[\s\u200b-\u200d\u2060\ufeff]*$/;

/** Whether a string shows something. */
export function isNotBlank(value: string): boolean {
  return !BLANK.test(value);
}

/**
 * C0 and C1 control characters, and a UTF-16 surrogate without its pair (JSON's `"\ud800"`). With
 * the u flag a paired surrogate is one code point, so the class matches only lone ones.
 */
const UNPRINTABLE = /\p{Cc}|[\ud800-\udfff]/u;

/**
 * What is wrong with the value of a required string (userName, a group's displayName), if anything.
 * These name somebody: they are shown, compared, exported and typed back in. A tab, a NUL or a lone
 * surrogate there is a data error upstream, and two names that differ only by one look like one.
 */
export function requiredStringProblem(value: string): string | undefined {
  if (!isNotBlank(value)) return 'must not be empty';
  if (UNPRINTABLE.test(value)) return 'must not contain control characters or unpaired surrogates';
  return undefined;
}

function checkRequiredString(value: string, ctx: z.RefinementCtx): void {
  const problem = requiredStringProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}

function lenientBoolean(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const l = v.toLowerCase();
  return l === 'true' ? true : l === 'false' ? false : v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Definitions by lower-case name, built once per (immutable) list: canonicalising every key of every
 * body by a search that lower-cases each candidate showed up in the create path's profile.
 */
const byLowerName = new WeakMap<readonly object[], Map<string, object>>();
function lowerNames<T extends object>(items: readonly T[], nameOf: (item: T) => string): Map<string, T> {
  let map = byLowerName.get(items) as Map<string, T> | undefined;
  if (!map) {
    map = new Map();
    // The first definition wins, as the search this replaces did.
    for (const item of items) if (!map.has(nameOf(item).toLowerCase())) map.set(nameOf(item).toLowerCase(), item);
    byLowerName.set(items, map);
  }
  return map;
}

const NO_EXTENSIONS: readonly SchemaDefinition[] = [];

function canonicalize(
  input: unknown,
  attrs: readonly AttributeDefinition[],
  extensions: readonly SchemaDefinition[],
  lenient: Leniency,
): unknown {
  if (!isRecord(input)) return input;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === null) continue;
    const lower = k.toLowerCase();
    const ext = lowerNames(extensions, (e) => e.id).get(lower);
    if (ext) {
      out[ext.id] = canonicalize(v, ext.attributes, NO_EXTENSIONS, lenient);
      continue;
    }
    const a = lowerNames(attrs, (x) => x.name).get(lower);
    if (!a) {
      out[k] = v;
      continue;
    }
    out[a.name] = canonicalValue(v, a, lenient);
  }
  return out;
}

function canonicalValue(v: unknown, a: AttributeDefinition, lenient: Leniency): unknown {
  if (a.type !== 'complex') return v;
  if (a.multiValued && Array.isArray(v))
    return v.map((el) => canonicalize(el, a.subAttributes, NO_EXTENSIONS, lenient));
  if (isRecord(v)) return canonicalize(v, a.subAttributes, NO_EXTENSIONS, lenient);
  if (lenient.bareValue && !a.multiValued && typeof v === 'string' && a.subAttributes.some((s) => s.name === 'value')) {
    return { value: v };
  }
  return v;
}
