import type { ResourceSchema } from '@shared/scim/registry';
import { executePlan } from './execute-plan';
import type { FilterNode } from './filter/ast';
import { compileFilter, type FilterOptions } from './filter/evaluate';
import { DEFAULT_INDEXES, plan, type IndexSpec } from './plan';
import type { CandidateSource, ResourceKind } from './plan-types';
import type { ResourceData } from './values';

/**
 * Filter → resources, the way the service should run a query: plan, probe the indexes, load each
 * candidate, re-check it with the compiled filter (candidates are a superset). The filter is
 * compiled first so an invalid one fails before any store access.
 */
export function findMatching(
  ast: FilterNode | undefined,
  schema: ResourceSchema,
  source: CandidateSource,
  load: (id: string) => ResourceData | undefined,
  indexes: readonly IndexSpec[] = DEFAULT_INDEXES,
  options: FilterOptions = {},
): ResourceData[] {
  const predicate = ast ? compileFilter(ast, schema, options) : () => true;
  const kind = schema.type.name as ResourceKind;
  const out: ResourceData[] = [];
  for (const id of executePlan(plan(ast, schema, indexes), source, kind)) {
    const r = load(id);
    if (r !== undefined && predicate(r)) out.push(r);
  }
  return out;
}
