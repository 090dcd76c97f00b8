import { SCIM_URN } from '@shared/scim/urns';
import type { PageRequest } from './paging';
import type { ProjectedResource, ProjectionRequest } from './projection';
import type { SortRequest } from './sort';

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
