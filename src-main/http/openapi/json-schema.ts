import { z } from 'zod';
import type { JsonSchema } from './types';

/**
 * zod 4 → JSON Schema 2020-12, the dialect of OpenAPI 3.1 Schema Objects (so `target:
 * 'draft-2020-12'`, not 'openapi-3.0', whose `nullable` 3.1 dropped). Requests are described as
 * the client sends them (`io: 'input'`: defaults make a field optional, `z.coerce` shows its
 * target type) and answers as the server returns them (`io: 'output'`).
 */
export type SchemaIo = 'input' | 'output';

/**
 * A contract schema as JSON Schema, or undefined when it describes no body at all (`z.undefined()`,
 * the 204 rows). Parts JSON Schema cannot express (a transform, a custom check) become `{}` —
 * "any value" — instead of throwing, so one odd field never takes the whole document down.
 * Definitions zod splits out (`$defs`, for recursive schemas) are moved into `components.schemas`
 * under `prefix`, because a `#/$defs/...` pointer would resolve against the OpenAPI document's root.
 */
export function zodJsonSchema(
  schema: z.ZodType,
  io: SchemaIo,
  components: Record<string, JsonSchema>,
  prefix: string,
): JsonSchema | undefined {
  if (schema instanceof z.ZodUndefined || schema instanceof z.ZodVoid) return undefined;
  const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  const { $schema: _dialect, $defs, ...root } = converted;
  const defs = ($defs ?? {}) as Record<string, JsonSchema>;
  const rename = (name: string) => `${prefix}${name.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') out[key] = rewriteRef(inner);
      else out[key] = rewrite(inner);
    }
    return out;
  };
  let selfReferenced = false;
  const rewriteRef = (pointer: string): string => {
    if (pointer === '#') {
      selfReferenced = true;
      return `#/components/schemas/${prefix}`;
    }
    const def = /^#\/\$defs\/(.+)$/.exec(pointer);
    return def?.[1] === undefined ? pointer : `#/components/schemas/${rename(decodeURIComponent(def[1]))}`;
  };
  for (const [name, def] of Object.entries(defs)) components[rename(name)] = rewrite(def) as JsonSchema;
  const result = rewrite(root) as JsonSchema;
  if (selfReferenced) {
    // A root that refers to itself must live under a name the reference can reach.
    components[prefix] = result;
    return { $ref: `#/components/schemas/${prefix}` };
  }
  return result;
}

/** The schema of one property of an object schema, and whether the object requires it. */
export function propertiesOf(
  schema: JsonSchema | undefined,
): { name: string; schema: JsonSchema; required: boolean }[] {
  if (!schema) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    schema: property,
    required: required.has(name),
  }));
}

/** An object schema without the named properties (path parameters taken out of a request body). */
export function withoutProperties(schema: JsonSchema, names: readonly string[]): JsonSchema {
  const properties = { ...((schema.properties ?? {}) as Record<string, JsonSchema>) };
  for (const name of names) delete properties[name];
  const required = ((schema.required ?? []) as string[]).filter((name) => !names.includes(name));
  const out: JsonSchema = { ...schema, properties };
  if (required.length > 0) out.required = required;
  else delete out.required;
  return out;
}
