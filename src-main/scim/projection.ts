import type { AttributePath, ResolvedAttribute, ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import { parseAttributePath } from './filter/parser';
import { isRecord, type ResourceData } from './values';

/**
 * RFC 7644 §3.4.2.5 / §3.9 `attributes` and `excludedAttributes`: comma-separated attribute
 * paths (`userName`, `name.givenName`, `urn:...:enterprise:2.0:User:manager`), or a whole extension
 * by its URN (DESIGN.md §3). Arrays are accepted for the POST `.search` body.
 */
export interface ProjectionRequest {
  attributes?: string | readonly string[] | undefined;
  excludedAttributes?: string | readonly string[] | undefined;
}

export type ProjectedResource = Record<string, unknown>;
export interface Projector {
  (resource: ResourceData): ProjectedResource;
  /**
   * Whether a top-level attribute (`members`) can be in what it returns: one it drops need not be
   * built (a group's 100,000 members, for `excludedAttributes=members`).
   */
  readonly emits: (attribute: string) => boolean;
}

/** Which attributes (and which of their sub-attributes) one container of the output holds. */
interface Rule {
  readonly attribute: AttributeDefinition;
  /** Sub-attributes to copy for complex attributes; undefined copies the value as is. */
  readonly subs: readonly AttributeDefinition[] | undefined;
}
interface ContainerRules {
  /** undefined: the top of the resource; otherwise an extension URN. */
  readonly urn: string | undefined;
  readonly rules: readonly Rule[];
}

type Selection = { readonly schemas: Set<string>; readonly attrs: Set<string>; readonly subs: Set<string> };

/**
 * Decides once, per request, what each attribute contributes, so projecting a page of resources
 * does no parsing. The output is built from the schema, never by copying the stored object, so
 * `returned: never` (password) and anything the schema does not define cannot leak.
 * Names that are well-formed but unknown are ignored (RFC 7644 does not make them an error, and
 * IdPs ask for attributes of extensions a tenant may not have); malformed names are 400 invalidValue.
 */
/**
 * Projectors for the common requests (no attributes, or the same few lists IdPs repeat), kept per
 * schema: compiling walks every attribute, projecting a resource should not.
 */
const compiled = new WeakMap<ResourceSchema, Map<string, Projector>>();
const MAX_CACHED_PER_SCHEMA = 64;

export function compileProjection(schema: ResourceSchema, request: ProjectionRequest = {}): Projector {
  const key = JSON.stringify([request.attributes ?? null, request.excludedAttributes ?? null]);
  let cache = compiled.get(schema);
  if (!cache) compiled.set(schema, (cache = new Map()));
  let projector = cache.get(key);
  if (!projector) {
    projector = buildProjector(schema, request);
    if (cache.size >= MAX_CACHED_PER_SCHEMA) cache.delete(cache.keys().next().value as string);
    cache.set(key, projector);
  }
  return projector;
}

function buildProjector(schema: ResourceSchema, request: ProjectionRequest): Projector {
  const attributes = select(schema, request.attributes);
  const excluded = attributes ? undefined : select(schema, request.excludedAttributes);
  const containers: ContainerRules[] = [
    { urn: undefined, rules: rulesFor(schema.topLevel, schema.core.id, undefined, attributes, excluded) },
    ...schema.extensions.map((ext) => ({
      urn: ext.id,
      rules: rulesFor(ext.attributes, ext.id, ext.id, attributes, excluded),
    })),
  ];
  const top = containers[0] as ContainerRules;
  // `meta` last: readers expect schemas/id first and bookkeeping at the end.
  // `schemas` is rebuilt from what is emitted (below), so it is not copied.
  const topRules = top.rules.filter((r) => r.attribute.name !== 'meta' && r.attribute.name !== 'schemas');
  const metaRule = top.rules.find((r) => r.attribute.name === 'meta');
  const extensions = containers.slice(1);

  const emitted = new Set(topRules.map((rule) => rule.attribute.name));
  const projector = (resource: ResourceData): ProjectedResource => {
    // RFC 7643 §3: `schemas` names the schemas the representation uses, so an extension that was
    // excluded (or is empty) is not listed. It is always returned (RFC 7643 §3, `returned: always`).
    const present: string[] = [schema.core.id];
    const out: ProjectedResource = { schemas: present };
    for (const rule of topRules) copy(resource, out, rule);
    for (const ext of extensions) {
      const source = ext.urn === undefined ? undefined : resource[ext.urn];
      if (!isRecord(source) || ext.urn === undefined) continue;
      const part: ProjectedResource = {};
      for (const rule of ext.rules) copy(source, part, rule);
      if (Object.keys(part).length > 0) {
        out[ext.urn] = part;
        present.push(ext.urn);
      }
    }
    if (metaRule) copy(resource, out, metaRule);
    return out;
  };
  return Object.assign(projector, { emits: (attribute: string) => emitted.has(attribute) });
}

export function project(
  resource: ResourceData,
  schema: ResourceSchema,
  request: ProjectionRequest = {},
): ProjectedResource {
  return compileProjection(schema, request)(resource);
}

function names(list: string | readonly string[] | undefined): string[] {
  if (list === undefined) return [];
  const items = typeof list === 'string' ? list.split(',') : list.flatMap((s) => s.split(','));
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

function key(urn: string, attribute: string, sub?: string): string {
  return `${urn.toLowerCase()}|${attribute.toLowerCase()}${sub === undefined ? '' : `.${sub.toLowerCase()}`}`;
}

function select(schema: ResourceSchema, list: string | readonly string[] | undefined): Selection | undefined {
  const items = names(list);
  if (items.length === 0) return undefined;
  const selection: Selection = { schemas: new Set(), attrs: new Set(), subs: new Set() };
  for (const item of items) {
    const whole = schema.schemaOf(item);
    if (whole && whole.id !== schema.core.id) {
      selection.schemas.add(whole.id.toLowerCase());
      continue;
    }
    // The core schema's URN names all of its attributes, as an extension's URN names all of its.
    if (whole) {
      for (const a of whole.attributes) selection.attrs.add(key(whole.id, a.name));
      continue;
    }
    const path: AttributePath = parseAttributePath(item);
    const resolved: ResolvedAttribute | undefined = schema.resolve(path);
    if (!resolved) continue;
    const owner = resolved.container ?? schema.core.id;
    if (resolved.sub) {
      selection.subs.add(key(owner, resolved.attribute.name, resolved.sub.name));
      // Naming a sub-attribute asks for its parent too (with only that sub-attribute).
      selection.attrs.add(`${key(owner, resolved.attribute.name)}#partial`);
    } else {
      selection.attrs.add(key(owner, resolved.attribute.name));
    }
  }
  return selection;
}

function rulesFor(
  attrs: readonly AttributeDefinition[],
  owner: string,
  extensionUrn: string | undefined,
  attributes: Selection | undefined,
  excluded: Selection | undefined,
): Rule[] {
  const rules: Rule[] = [];
  for (const a of attrs) {
    const k = key(owner, a.name);
    const subRule = (parentWhole: boolean) =>
      a.type !== 'complex'
        ? undefined
        : a.subAttributes.filter((s) => includeSub(s, key(owner, a.name, s.name), parentWhole, attributes, excluded));
    if (a.returned === 'never') continue;
    if (a.returned === 'always') {
      rules.push({ attribute: a, subs: subRule(true) });
      continue;
    }
    const wholeExtension = (sel: Selection | undefined) =>
      extensionUrn !== undefined && !!sel?.schemas.has(extensionUrn.toLowerCase());
    if (attributes) {
      if (attributes.attrs.has(k) || wholeExtension(attributes)) rules.push({ attribute: a, subs: subRule(true) });
      else if (attributes.attrs.has(`${k}#partial`)) rules.push({ attribute: a, subs: subRule(false) });
      continue;
    }
    if (a.returned === 'request') continue;
    if (excluded && (excluded.attrs.has(k) || wholeExtension(excluded))) continue;
    rules.push({ attribute: a, subs: subRule(true) });
  }
  return rules;
}

function includeSub(
  sub: AttributeDefinition,
  k: string,
  parentWhole: boolean,
  attributes: Selection | undefined,
  excluded: Selection | undefined,
): boolean {
  if (sub.returned === 'never') return false;
  if (sub.returned === 'always') return true;
  if (attributes) return attributes.subs.has(k) || (parentWhole && sub.returned !== 'request');
  if (sub.returned === 'request') return false;
  return !excluded?.subs.has(k);
}

function copy(from: ResourceData, to: ProjectedResource, rule: Rule): void {
  const value = from[rule.attribute.name];
  if (value === undefined || value === null) return;
  const subs = rule.subs;
  if (subs === undefined) {
    to[rule.attribute.name] = Array.isArray(value) ? [...value] : value;
    return;
  }
  const pick = (el: unknown): ProjectedResource | undefined => {
    if (!isRecord(el)) return undefined;
    const o: ProjectedResource = {};
    for (const s of subs) {
      const v = el[s.name];
      if (v !== undefined && v !== null) o[s.name] = Array.isArray(v) ? [...v] : v;
    }
    return Object.keys(o).length > 0 ? o : undefined;
  };
  if (Array.isArray(value)) {
    const items = value.map(pick).filter((o): o is ProjectedResource => o !== undefined);
    // An empty list given is answered as one (a group's `members`, see present.ts); a list whose
    // elements held none of the sub-attributes asked for is not.
    if (items.length > 0 || value.length === 0) to[rule.attribute.name] = items;
  } else {
    const o = pick(value);
    if (o) to[rule.attribute.name] = o;
  }
}
