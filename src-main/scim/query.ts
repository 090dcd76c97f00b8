import type { ResourceSchema } from '@shared/scim/registry';
import { executePlan } from './execute-plan';
import type { FilterNode } from './filter/ast';
import { compileFilter, type FilterOptions, type Predicate } from './filter/evaluate';
import { DEFAULT_INDEXES, plan, type IndexSpec } from './plan';
import type { CandidateSource, ResourceKind } from '@shared/scim/index-keys';
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
  const predicate = ast ? compileFilter(ast, schema, options) : undefined;
  return matchCompiled(ast, predicate, schema, source, load, indexes);
}

/**
 * `findMatching` with the filter already compiled (`predicate` is `compileFilter(ast, ...)`), for a
 * caller that must know the filter is valid under the request's flags before it does anything else.
 */
export function matchCompiled(
  ast: FilterNode | undefined,
  predicate: Predicate | undefined,
  schema: ResourceSchema,
  source: CandidateSource,
  load: (id: string) => ResourceData | undefined,
  indexes: readonly IndexSpec[] = DEFAULT_INDEXES,
): ResourceData[] {
  const kind = schema.type.name as ResourceKind;
  const out: ResourceData[] = [];
  for (const id of executePlan(plan(ast, schema, indexes), source, kind)) {
    const r = load(id);
    if (r !== undefined && (predicate === undefined || predicate(r))) out.push(r);
  }
  return out;
}
