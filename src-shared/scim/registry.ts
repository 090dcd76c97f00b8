import type { AttributeDefinition, ResourceTypeDefinition, SchemaDefinition } from './schema-types';
import { COMMON_ATTRIBUTES, CORE_RESOURCE_TYPES, CORE_SCHEMAS } from './schemas/index';

/**
 * A reference to an attribute as written in a filter, sortBy, attributes list or PATCH path
 * (RFC 7644 §3.10): an optional schema URN, an attribute name, an optional sub-attribute name.
 */
export interface AttributePath {
  readonly uri?: string;
  readonly name: string;
  readonly sub?: string;
}

/** Where an attribute path lands on a resource of one type. */
export interface ResolvedAttribute {
  /** The URN of the schema that defines the attribute (the core schema's for common attributes). */
  readonly schema: string;
  /**
   * The key of the extension object that holds the attribute (RFC 7643 §3.3), or undefined for
   * attributes at the top of the resource (common and core attributes).
   */
  readonly container: string | undefined;
  readonly attribute: AttributeDefinition;
  readonly sub: AttributeDefinition | undefined;
}

/** One resource type with its schemas, answering name lookups case-insensitively (RFC 7643 §2.1). */
export interface ResourceSchema {
  readonly type: ResourceTypeDefinition;
  readonly core: SchemaDefinition;
  readonly extensions: readonly SchemaDefinition[];
  /** undefined when the path names no attribute of this resource type. */
  resolve(path: AttributePath): ResolvedAttribute | undefined;
  subAttribute(parent: AttributeDefinition, name: string): AttributeDefinition | undefined;
  /** The core schema or one of this type's extensions, by URN (case-insensitive). */
  schemaOf(urn: string): SchemaDefinition | undefined;
  /** Top-level attributes (common, then core) — the ones not nested under an extension URN. */
  readonly topLevel: readonly AttributeDefinition[];
}

export interface SchemaRegistry {
  readonly schemas: readonly SchemaDefinition[];
  readonly resourceTypes: readonly ResourceTypeDefinition[];
  schema(urn: string): SchemaDefinition | undefined;
  resource(name: string): ResourceSchema | undefined;
}

function byLowerName(attributes: readonly AttributeDefinition[]): Map<string, AttributeDefinition> {
  const map = new Map<string, AttributeDefinition>();
  for (const a of attributes) {
    const key = a.name.toLowerCase();
    if (map.has(key)) throw new Error(`schema defines attribute "${a.name}" twice (names are case-insensitive)`);
    map.set(key, a);
  }
  return map;
}

/** Sub-attribute maps, built on first use; attribute definitions are immutable data. */
const subMaps = new WeakMap<AttributeDefinition, Map<string, AttributeDefinition>>();
function subAttribute(parent: AttributeDefinition, name: string): AttributeDefinition | undefined {
  let map = subMaps.get(parent);
  if (!map) {
    map = byLowerName(parent.subAttributes);
    subMaps.set(parent, map);
  }
  return map.get(name.toLowerCase());
}

function resourceSchema(type: ResourceTypeDefinition, schemaFor: (urn: string) => SchemaDefinition): ResourceSchema {
  const core = schemaFor(type.schema);
  const extensions = type.schemaExtensions.map((e) => schemaFor(e.schema));
  const topLevel = [...COMMON_ATTRIBUTES, ...core.attributes];
  const top = byLowerName(topLevel);
  const perExtension = new Map(
    extensions.map((s) => [s.id.toLowerCase(), { schema: s, names: byLowerName(s.attributes) }]),
  );

  function finish(schema: string, container: string | undefined, attribute: AttributeDefinition, sub?: string) {
    if (sub === undefined) return { schema, container, attribute, sub: undefined };
    const subDef = subAttribute(attribute, sub);
    return subDef ? { schema, container, attribute, sub: subDef } : undefined;
  }

  return {
    type,
    core,
    extensions,
    topLevel,
    subAttribute,
    schemaOf(urn) {
      const lower = urn.toLowerCase();
      return lower === core.id.toLowerCase() ? core : perExtension.get(lower)?.schema;
    },
    resolve({ uri, name, sub }) {
      const lower = name.toLowerCase();
      if (uri === undefined || uri.toLowerCase() === core.id.toLowerCase()) {
        const found = top.get(lower);
        if (found) return finish(core.id, undefined, found, sub);
        if (uri !== undefined) return undefined;
        // RFC 7644 §3.10 asks for the URN on extension attributes, but clients omit it; an
        // unambiguous bare name is found in the first extension that defines it. A PATCH takes it
        // only under bareExtensionNames (patch/target.ts); a filter, sortBy or attributes in every
        // profile.
        for (const ext of perExtension.values()) {
          const inExt = ext.names.get(lower);
          if (inExt) return finish(ext.schema.id, ext.schema.id, inExt, sub);
        }
        return undefined;
      }
      const ext = perExtension.get(uri.toLowerCase());
      const found = ext?.names.get(lower);
      return ext && found ? finish(ext.schema.id, ext.schema.id, found, sub) : undefined;
    },
  };
}

/**
 * Builds the lookup structure for a set of schemas and resource types. A tenant's custom extension
 * is passed in here like the core ones; nothing in the SCIM core imports a global schema list.
 * Throws on an inconsistent definition set (a resource type naming an unknown schema).
 */
export function createSchemaRegistry(
  schemas: readonly SchemaDefinition[],
  resourceTypes: readonly ResourceTypeDefinition[],
): SchemaRegistry {
  const byUrn = new Map(schemas.map((s) => [s.id.toLowerCase(), s]));
  const schemaFor = (urn: string): SchemaDefinition => {
    const s = byUrn.get(urn.toLowerCase());
    if (!s) throw new Error(`resource type refers to unknown schema ${urn}`);
    return s;
  };
  const resources = new Map(resourceTypes.map((t) => [t.name.toLowerCase(), resourceSchema(t, schemaFor)]));
  return {
    schemas,
    resourceTypes,
    schema: (urn) => byUrn.get(urn.toLowerCase()),
    resource: (name) => resources.get(name.toLowerCase()),
  };
}

/** The registry of the built-in schemas (User, Enterprise User, Group). */
export function coreSchemaRegistry(): SchemaRegistry {
  return createSchemaRegistry(CORE_SCHEMAS, CORE_RESOURCE_TYPES);
}

/** `resource(name)` for names the caller knows exist; throws otherwise. */
export function requireResource(registry: SchemaRegistry, name: string): ResourceSchema {
  const r = registry.resource(name);
  if (!r) throw new Error(`unknown resource type ${name}`);
  return r;
}
