import type { ResourceSchema } from '@shared/scim/registry';
import { SCIM_URN } from '@shared/scim/urns';
import { normalizePage, pageOf, type PageRequest } from './paging';
import { compileProjection, type ProjectedResource, type ProjectionRequest } from './projection';
import { sortResources, type SortRequest } from './sort';
import type { ResourceData } from './values';

/** RFC 7644 §3.4.2: the query parameters of a list or `.search`. */
export interface ListQuery extends SortRequest, PageRequest, ProjectionRequest {}

/** RFC 7644 §3.4.2: every field always present (DESIGN.md §3). */
export interface ListResponse {
  schemas: [typeof SCIM_URN.listResponse];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: ProjectedResource[];
}

export function listResponse(resources: ProjectedResource[], totalResults: number, startIndex: number): ListResponse {
  return {
    schemas: [SCIM_URN.listResponse],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

/**
 * Sort, page and project the resources that matched a filter (already re-checked), in that order:
 * paging after sorting keeps pages consistent, projection last so it runs on one page only.
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
