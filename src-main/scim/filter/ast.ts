import type { AttributePath } from '@shared/scim/registry';

export type { AttributePath };

/** RFC 7644 §3.4.2.2, Table 3: the comparison operators (`pr` is its own node kind). */
export const COMPARE_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

/** RFC 7644 §3.4.2.2 `compValue`: a JSON string, number, or one of true, false, null. */
export type CompValue = string | number | boolean | null;

/**
 * The filter AST. Plain data with no source positions, so that `parse(print(ast))` deep-equals
 * `ast`; positions live in a side table (`positionOf`) for error messages only.
 * `and` and `or` are binary and left-associative, exactly as written.
 */
export type FilterNode =
  | { readonly kind: 'compare'; readonly path: AttributePath; readonly op: CompareOp; readonly value: CompValue }
  | { readonly kind: 'present'; readonly path: AttributePath }
  | { readonly kind: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: 'not'; readonly filter: FilterNode }
  /** `attr[valFilter]`; paths inside `filter` are relative to the elements of `path`. */
  | { readonly kind: 'valuePath'; readonly path: AttributePath; readonly filter: FilterNode };

/**
 * A PATCH target (RFC 7644 §3.5.2, `PATH = attrPath / valuePath [subAttr]`). With a `filter`,
 * `path.sub` is the sub-attribute after the brackets (`emails[type eq "work"].value`).
 */
export interface PatchPath {
  readonly path: AttributePath;
  readonly filter?: FilterNode;
}

/** Source offsets (0-based) of nodes and paths, recorded by the parser for later error messages. */
const positions = new WeakMap<object, number>();

export function recordPosition<T extends object>(node: T, offset: number): T {
  positions.set(node, offset);
  return node;
}

export function positionOf(node: object): number | undefined {
  return positions.get(node);
}

/**
 * Every attribute path a filter reads, in order: a comparison's or `pr`'s path, and a value path's
 * attribute; paths inside `[ ]` come with that attribute as `parent` (they are relative to it).
 */
export function* attributePaths(
  node: FilterNode,
  parent?: AttributePath,
): Generator<{ readonly path: AttributePath; readonly parent?: AttributePath | undefined }> {
  switch (node.kind) {
    case 'and':
    case 'or':
      yield* attributePaths(node.left, parent);
      yield* attributePaths(node.right, parent);
      return;
    case 'not':
      yield* attributePaths(node.filter, parent);
      return;
    case 'valuePath':
      yield { path: node.path, parent };
      yield* attributePaths(node.filter, node.path);
      return;
    case 'compare':
    case 'present':
      yield { path: node.path, parent };
  }
}
