import type { ResourceSchema } from '@shared/scim/registry';
import type { AttributePath, FilterNode } from './filter/ast';
import { foldKey, type CandidatePlan, type IndexName, type ResourceKind } from '@shared/scim/index-keys';

/**
 * An index the store keeps: which attribute path it covers on which resource type, whether its keys
 * are case-folded, and whether it is sorted (so it can answer a prefix). The planner only plans a
 * lookup when the index's folding agrees with the attribute's caseExact in the schema, so a
 * schema change can make a query slower, never wrong.
 */
export interface IndexSpec {
  readonly resource: ResourceKind;
  readonly index: IndexName;
  /** Canonical attribute path: "userName", "emails.value". */
  readonly path: string;
  readonly folded: boolean;
  readonly prefix: boolean;
}

/** The indexes of src-shared/scim/index-keys.ts, per resource type. */
export const DEFAULT_INDEXES: readonly IndexSpec[] = [
  { resource: 'User', index: 'id', path: 'id', folded: false, prefix: false },
  { resource: 'User', index: 'userName', path: 'userName', folded: true, prefix: true },
  { resource: 'User', index: 'externalId', path: 'externalId', folded: false, prefix: false },
  { resource: 'User', index: 'emails.value', path: 'emails.value', folded: true, prefix: false },
  { resource: 'Group', index: 'id', path: 'id', folded: false, prefix: false },
  { resource: 'Group', index: 'externalId', path: 'externalId', folded: false, prefix: false },
  { resource: 'Group', index: 'displayName', path: 'displayName', folded: true, prefix: false },
  { resource: 'Group', index: 'members.value', path: 'members.value', folded: false, prefix: false },
];

const SCAN: CandidatePlan = { kind: 'scan' };

/**
 * Turns a filter into index probes. The result is a superset of the matches — `and` intersects,
 * `or` unions, and anything an index cannot answer exactly (`not`, `ne`, `co`, ranges, other
 * attributes) is `scan` — so the caller must re-check every candidate with the compiled filter.
 * No filter at all is a scan too.
 */
export function plan(
  ast: FilterNode | undefined,
  schema: ResourceSchema,
  indexes: readonly IndexSpec[] = DEFAULT_INDEXES,
): CandidatePlan {
  const kind = schema.type.name;
  if (ast === undefined || (kind !== 'User' && kind !== 'Group')) return SCAN;
  const mine = indexes.filter((i) => i.resource === kind);
  return planNode(ast, schema, kind, mine, undefined);
}

function planNode(
  node: FilterNode,
  schema: ResourceSchema,
  kind: ResourceKind,
  indexes: readonly IndexSpec[],
  parent: string | undefined,
): CandidatePlan {
  switch (node.kind) {
    case 'and':
      return combine('and', [
        planNode(node.left, schema, kind, indexes, parent),
        planNode(node.right, schema, kind, indexes, parent),
      ]);
    case 'or':
      return combine('or', [
        planNode(node.left, schema, kind, indexes, parent),
        planNode(node.right, schema, kind, indexes, parent),
      ]);
    case 'valuePath': {
      if (parent !== undefined) return SCAN;
      const resolved = schema.resolve(node.path);
      if (!resolved || resolved.container !== undefined || resolved.sub) return SCAN;
      return planNode(node.filter, schema, kind, indexes, resolved.attribute.name);
    }
    case 'compare': {
      if ((node.op !== 'eq' && node.op !== 'sw') || typeof node.value !== 'string') return SCAN;
      const target = indexedPath(node.path, schema, parent);
      if (!target) return SCAN;
      const spec = indexes.find((i) => i.path === target.path && i.folded === !target.caseExact);
      if (!spec || (node.op === 'sw' && !spec.prefix)) return SCAN;
      const key = spec.folded ? foldKey(node.value) : node.value;
      return {
        kind: 'lookup',
        lookup: { resource: kind, index: spec.index, match: node.op === 'eq' ? 'eq' : 'prefix', key },
      };
    }
    case 'not':
    case 'present':
      return SCAN;
  }
}

/** The canonical dotted path a comparison reads, when it is on a top-level (non-extension) attribute. */
function indexedPath(
  path: AttributePath,
  schema: ResourceSchema,
  parent: string | undefined,
): { path: string; caseExact: boolean } | undefined {
  if (parent !== undefined) {
    if (path.uri !== undefined || path.sub !== undefined) return undefined;
    const resolved = schema.resolve({ name: parent, sub: path.name });
    return resolved?.sub
      ? { path: `${resolved.attribute.name}.${resolved.sub.name}`, caseExact: resolved.sub.caseExact }
      : undefined;
  }
  const resolved = schema.resolve(path);
  if (!resolved || resolved.container !== undefined) return undefined;
  if (resolved.sub)
    return { path: `${resolved.attribute.name}.${resolved.sub.name}`, caseExact: resolved.sub.caseExact };
  if (resolved.attribute.type !== 'complex')
    return { path: resolved.attribute.name, caseExact: resolved.attribute.caseExact };
  // `emails eq "x"` compares through `value` (see filter/evaluate.ts).
  const value = schema.subAttribute(resolved.attribute, 'value');
  return value ? { path: `${resolved.attribute.name}.${value.name}`, caseExact: value.caseExact } : undefined;
}

/** Flattens nested and/or, drops scans from `and`, and lets one scan swallow an `or`. */
function combine(kind: 'and' | 'or', parts: CandidatePlan[]): CandidatePlan {
  const flat: CandidatePlan[] = [];
  for (const p of parts) {
    if (p.kind === kind) flat.push(...p.plans);
    else flat.push(p);
  }
  if (kind === 'or') return flat.some((p) => p.kind === 'scan') ? SCAN : { kind, plans: flat };
  const useful = flat.filter((p) => p.kind !== 'scan');
  if (useful.length === 0) return SCAN;
  if (useful.length === 1) return useful[0] as CandidatePlan;
  return { kind, plans: useful };
}
