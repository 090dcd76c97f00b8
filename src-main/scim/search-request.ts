import { SCIM_URN } from '@shared/scim/urns';
import type { CompatContext } from './compat';
import { ScimError } from './errors';
import { otherMessageIn } from './message-urns';

/** The query a POST .search body asks for (RFC 7644 §3.4.3), in the GET parameters' terms. */
export interface SearchRequest {
  filter?: string | undefined;
  startIndex?: string | number | undefined;
  count?: string | number | undefined;
  sortBy?: string | undefined;
  sortOrder?: string | undefined;
  attributes?: string | string[] | undefined;
  excludedAttributes?: string | string[] | undefined;
}

/** The SearchRequest message's attributes (RFC 7644 §3.4.3), spelled as the RFC spells them. */
const SEARCH_KEYS = [
  'schemas',
  'filter',
  'startIndex',
  'count',
  'sortBy',
  'sortOrder',
  'attributes',
  'excludedAttributes',
] as const;
type SearchKey = (typeof SEARCH_KEYS)[number];
const SEARCH_KEY_BY_LOWER = new Map<string, SearchKey>(SEARCH_KEYS.map((key) => [key.toLowerCase(), key]));

/**
 * Reads a SearchRequest body. Values keep the GET parameters' forms (a number or its text; one
 * comma-separated string or a list), so one set of rules checks both. Under
 * `strictSchemaValidation` the body is a SearchRequest as §3.4.3 gives it: its URN in `schemas`,
 * no other attributes, `startIndex` and `count` as numbers.
 */
export function parseSearchRequest(body: unknown, compat: CompatContext): SearchRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ScimError.badRequest('invalidSyntax', 'A search request body must be a JSON object.');
  }
  const { known: b, unknown } = searchKeys(body as Record<string, unknown>);
  checkSchemas(b.schemas, compat);
  // Strict, as for a resource's unknown attributes: a misspelt "filtre" searched everything. After
  // the schemas: a PatchOp sent here is told as that, not by its "Operations".
  if (unknown !== undefined && compat.isOn('strictSchemaValidation')) {
    throw compat.refuse(
      'strictSchemaValidation',
      'invalidSyntax',
      `The search request has "${unknown}", not an attribute of a SearchRequest (RFC 7644 §3.4.3).`,
    );
  }
  const text = (name: SearchKey) => {
    const value = b[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number') return value;
    if (typeof value === 'string') {
      // §3.4.3 gives startIndex and count as integers; their text is the GET parameters' form.
      if ((name === 'startIndex' || name === 'count') && compat.isOn('strictSchemaValidation')) {
        throw compat.refuse('strictSchemaValidation', 'invalidValue', `${name} must be a JSON number, not "${value}".`);
      }
      return value;
    }
    throw ScimError.badRequest('invalidValue', `${name} must be a string or a number.`);
  };
  const list = (name: SearchKey) => {
    const value = b[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
    throw ScimError.badRequest('invalidValue', `${name} must be an array of attribute names.`);
  };
  const filter = text('filter');
  return {
    filter: filter === undefined ? undefined : String(filter),
    startIndex: text('startIndex'),
    count: text('count'),
    sortBy: text('sortBy')?.toString(),
    sortOrder: text('sortOrder')?.toString(),
    attributes: list('attributes'),
    excludedAttributes: list('excludedAttributes'),
  };
}

/**
 * The body's SearchRequest attributes under their RFC spelling. RFC 7643 §2.1 makes attribute
 * names case-insensitive, so `Filter` and `COUNT` are the same attributes; reading only the exact
 * spelling answered a filtered search with everything. Names it does not define are left alone
 * outside strict. Two spellings of one name in one body are refused: the values may differ, and
 * picking one by member order would silently drop the other.
 */
function searchKeys(body: Record<string, unknown>): {
  known: Partial<Record<SearchKey, unknown>>;
  /** The first name that is no SearchRequest attribute, if any. */
  unknown: string | undefined;
} {
  const out: Partial<Record<SearchKey, unknown>> = {};
  const spelled = new Map<SearchKey, string>();
  let unknown: string | undefined;
  for (const [name, value] of Object.entries(body)) {
    const key = SEARCH_KEY_BY_LOWER.get(name.toLowerCase());
    if (key === undefined) {
      unknown ??= name;
      continue;
    }
    const earlier = spelled.get(key);
    if (earlier !== undefined) {
      throw ScimError.badRequest(
        'invalidSyntax',
        `The search request gives ${key} twice ("${earlier}" and "${name}"; attribute names are case-insensitive, RFC 7643 §2.1).`,
      );
    }
    spelled.set(key, name);
    out[key] = value;
  }
  return { known: out, unknown };
}

/**
 * Strict: the body lists the SearchRequest URN, as §3.4.3 says. Any profile: a body that lists
 * another message's instead (a PatchOp's) is refused, as PATCH and Bulk refuse one.
 */
function checkSchemas(schemas: unknown, compat: CompatContext): void {
  const urn = SCIM_URN.searchRequest;
  const named =
    Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase());
  if (named) return;
  const otherMessage = otherMessageIn(schemas, urn);
  if (otherMessage !== undefined) {
    throw ScimError.badRequest(
      'invalidSyntax',
      `The search request lists ${otherMessage} in "schemas", another request's message; send ${urn}.`,
    );
  }
  if (compat.isOn('strictSchemaValidation')) {
    throw compat.refuse('strictSchemaValidation', 'invalidSyntax', `A search request's 'schemas' must list ${urn}.`);
  }
}
