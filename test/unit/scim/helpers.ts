import { coreSchemaRegistry, requireResource, type ResourceSchema } from '@shared/scim/registry';
import { ScimSyntaxError } from '../../../src-main/scim/filter/syntax-error';
import { listResponse, type ListQuery, type ListResponse } from '../../../src-main/scim/list';
import { normalizePage, pageOf } from '../../../src-main/scim/paging';
import { compileProjection } from '../../../src-main/scim/projection';
import { sortResources } from '../../../src-main/scim/sort';
import type { ResourceData } from '../../../src-main/scim/values';

export const registry = coreSchemaRegistry();
export const userSchema = requireResource(registry, 'User');
export const groupSchema = requireResource(registry, 'Group');

/** Runs `fn` and returns the ScimSyntaxError it throws; fails the test if it throws anything else or nothing. */
export function syntaxErrorOf(fn: () => unknown): ScimSyntaxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ScimSyntaxError) return e;
    throw new Error(`expected ScimSyntaxError, got ${String(e)}`);
  }
  throw new Error('expected ScimSyntaxError, nothing was thrown');
}

export function ids(resources: readonly ResourceData[]): string[] {
  return resources.map((r) => String(r['id']));
}

/**
 * The core's list steps over resources that matched a filter, in the service's order: sort, page,
 * then project the page. The service runs the same steps over the store's indexes and caches.
 */
export function buildListResponse(
  matched: readonly ResourceData[],
  schema: ResourceSchema,
  query: ListQuery = {},
  maxResults?: number,
): ListResponse {
  const page = normalizePage(query, maxResults);
  const projector = compileProjection(schema, query);
  const sorted = page.count === 0 ? [] : sortResources(matched, schema, query);
  return listResponse(pageOf(sorted, page).map(projector), matched.length, page.startIndex);
}
