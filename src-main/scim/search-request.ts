import { SCIM_URN } from '@shared/scim/urns';
import type { CompatContext } from './compat';
import { ScimError } from './errors';

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

/**
 * Reads a SearchRequest body. Values keep the GET parameters' forms (a number or its text; one
 * comma-separated string or a list), so one set of rules checks both. Under
 * `strictSchemaValidation` the body must carry the SearchRequest URN in `schemas`, as §3.4.3 says.
 */
export function parseSearchRequest(body: unknown, compat: CompatContext): SearchRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ScimError.badRequest('invalidSyntax', 'A search request body must be a JSON object.');
  }
  const b = body as Record<string, unknown>;
  if (compat.isOn('strictSchemaValidation')) checkSchemas(b['schemas'], compat);
  const text = (name: string) => {
    const value = b[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' || typeof value === 'number') return value;
    throw ScimError.badRequest('invalidValue', `${name} must be a string or a number.`);
  };
  const list = (name: string) => {
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

function checkSchemas(schemas: unknown, compat: CompatContext): void {
  const urn = SCIM_URN.searchRequest;
  const named =
    Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase());
  if (!named) {
    throw compat.refuse('strictSchemaValidation', 'invalidSyntax', `A search request's 'schemas' must list ${urn}.`);
  }
}
