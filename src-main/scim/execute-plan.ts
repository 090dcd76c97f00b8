import type { CandidatePlan, CandidateSource, ResourceKind } from '@shared/scim/index-keys';

/**
 * Runs a plan against the store's indexes. `resource` says what a top-level `scan` enumerates.
 * Intersections start from the smallest set, so `userName eq "x" and active eq true` costs one
 * probe whatever else the filter says.
 */
export function executePlan(plan: CandidatePlan, source: CandidateSource, resource: ResourceKind): Set<string> {
  switch (plan.kind) {
    case 'scan':
      return new Set(source.all(resource));
    case 'lookup':
      return new Set(source.lookup(plan.lookup));
    case 'or': {
      const out = new Set<string>();
      for (const p of plan.plans) for (const id of executePlan(p, source, resource)) out.add(id);
      return out;
    }
    case 'and': {
      const sets = plan.plans.map((p) => executePlan(p, source, resource)).sort((a, b) => a.size - b.size);
      const [smallest, ...rest] = sets;
      if (!smallest) return new Set(source.all(resource));
      const out = new Set<string>();
      for (const id of smallest) if (rest.every((s) => s.has(id))) out.add(id);
      return out;
    }
  }
}
