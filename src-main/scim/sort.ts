import { parseDateTimeMicros } from '@shared/scim/datetime';
import type { ResolvedAttribute, ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import { ScimError } from './errors';
import { parseAttributePath } from './filter/parser';
import { printAttributePath } from './filter/printer';
import { codePointOrder, foldKey } from '@shared/scim/index-keys';
import { attributeValue, isRecord, type ResourceData } from './values';

/** RFC 7644 §3.4.2.3. */
export interface SortRequest {
  sortBy?: string | undefined;
  sortOrder?: string | undefined;
}

type Key = string | number | undefined;

/**
 * Sorts resources for a list response. With `sortBy`: by that attribute under its type's rules
 * (case-folded when caseExact is false, dateTimes as instants), missing values last ascending and
 * first descending, ties broken by `id` (ascending either way) so pages never shuffle. Strings
 * compare by code unit, not locale, so the order does not depend on the machine. For a multi-valued attribute the `primary` element's
 * value is used, else the first (RFC 7644 §3.4.2.3).
 * Without `sortBy`: by `meta.created`, then `id` — the stable order DESIGN.md §3 promises, whatever
 * order the store produced the candidates in.
 * Returns a new array; the input is not touched.
 */
export function sortResources<T extends ResourceData>(
  resources: readonly T[],
  schema: ResourceSchema,
  request: SortRequest = {},
): T[] {
  return sortAcrossTypes([{ schema, resources }], request).map((row) => row.resource);
}

/**
 * `sortResources` over several resource types at once (a search at the root, RFC 7644 §3.4.3): one
 * order for all of them, each resource's key read under its own type's schema. An attribute one
 * type lacks has no value there; one that no type has is refused. Each result names its group.
 */
export function sortAcrossTypes<T extends ResourceData>(
  groups: readonly { schema: ResourceSchema; resources: readonly T[] }[],
  request: SortRequest = {},
): { resource: T; group: number }[] {
  const descending = parseSortOrder(request.sortOrder);
  const sortBy = request.sortBy?.trim();
  const readers = groups.map(({ schema }) =>
    sortBy ? keyReader(schema, sortBy, groups.length > 1) : createdReader(schema),
  );
  if (sortBy && readers.every((read) => read === undefined)) {
    throw ScimError.badRequest(
      'invalidValue',
      `sortBy names an unknown attribute '${printAttributePath(parseAttributePath(sortBy))}'.`,
    );
  }
  const rows = groups.flatMap(({ resources }, group) => {
    const read = readers[group] ?? (() => undefined);
    return resources.map((resource) => ({
      resource,
      group,
      k: read(resource),
      id: typeof resource['id'] === 'string' ? resource['id'] : '',
    }));
  });
  const dir = sortBy && descending ? -1 : 1;
  rows.sort((a, b) => {
    if (a.k !== b.k) {
      // RFC 7644 §3.4.2.3: without a value, "ordered last if ascending and first if descending".
      if (a.k === undefined) return dir;
      if (b.k === undefined) return -dir;
      // Types agree on the attributes they share (displayName, meta.*); should two ever differ,
      // numbers sort before strings rather than compare by JavaScript's coercions.
      if (typeof a.k !== typeof b.k) return typeof a.k === 'number' ? -dir : dir;
      if (a.k < b.k) return -dir;
      if (a.k > b.k) return dir;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return rows;
}

/**
 * Refuses what `sortAcrossTypes` would refuse (an unknown or complex sortBy, a bad sortOrder)
 * without sorting anything: it sorts no resources under the same rules, so the two cannot drift.
 * A list that orders nothing (count=0) never calls the sort, yet must refuse the same requests.
 */
export function checkSortRequest(schemas: readonly ResourceSchema[], request: SortRequest): void {
  sortAcrossTypes(
    schemas.map((schema) => ({ schema, resources: [] })),
    request,
  );
}

/** Whether `sortOrder` asks for descending order (RFC 7644 §3.4.2.3; ascending by default). */
export function parseSortOrder(order: string | undefined): boolean {
  if (order === undefined || order.trim() === '') return false;
  const o = order.trim().toLowerCase();
  if (o === 'ascending') return false;
  if (o === 'descending') return true;
  throw ScimError.badRequest('invalidValue', `sortOrder must be "ascending" or "descending", not "${order}".`);
}

function createdReader(schema: ResourceSchema): (r: ResourceData) => Key {
  const resolved = schema.resolve({ name: 'meta', sub: 'created' });
  return resolved ? reader(resolved) : () => undefined;
}

/**
 * How to read `sortBy`'s key in one type. When the type lacks the attribute: undefined if
 * `lacking` allows it (one of several types), else a 400.
 */
function keyReader(schema: ResourceSchema, sortBy: string, lacking = false): ((r: ResourceData) => Key) | undefined {
  const path = parseAttributePath(sortBy);
  const resolved = schema.resolve(path);
  if (!resolved && lacking) return undefined;
  if (!resolved)
    throw ScimError.badRequest('invalidValue', `sortBy names an unknown attribute '${printAttributePath(path)}'.`);
  if (!resolved.sub && resolved.attribute.type === 'complex') {
    const value = schema.subAttribute(resolved.attribute, 'value');
    if (!value)
      throw ScimError.badRequest('invalidValue', `sortBy '${sortBy}' is complex; name one of its sub-attributes.`);
    return reader({ ...resolved, sub: value });
  }
  return reader(resolved);
}

function reader(resolved: ResolvedAttribute): (r: ResourceData) => Key {
  const { attribute, sub } = resolved;
  const leaf = sub ?? attribute;
  // The stored value is a hash, never shown: an order by it would mean nothing, or leak something.
  if (leaf.returned === 'never') {
    throw ScimError.badRequest(
      'invalidValue',
      `sortBy '${leaf.name}' is never returned, so nothing can be sorted by it.`,
    );
  }
  const normalize = normalizer(leaf);
  return (r) => {
    let v = attributeValue(r, resolved);
    if (attribute.multiValued && Array.isArray(v)) v = v.find((el) => isRecord(el) && el['primary'] === true) ?? v[0];
    if (sub) v = isRecord(v) ? v[sub.name] : undefined;
    return normalize(v);
  };
}

function normalizer(leaf: AttributeDefinition): (v: unknown) => Key {
  switch (leaf.type) {
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? Number(v) : undefined);
    case 'integer':
    case 'decimal':
      return (v) => (typeof v === 'number' && !Number.isNaN(v) ? v : undefined);
    case 'dateTime':
      return (v) => (typeof v === 'string' ? parseDateTimeMicros(v) : undefined);
    default:
      return leaf.caseExact
        ? (v) => (typeof v === 'string' ? codePointOrder(v) : undefined)
        : (v) => (typeof v === 'string' ? codePointOrder(foldKey(v)) : undefined);
  }
}
