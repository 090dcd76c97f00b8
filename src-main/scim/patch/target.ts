import type { ResolvedAttribute, ResourceSchema } from '@shared/scim/registry';
import type { SchemaDefinition } from '@shared/scim/schema-types';
import type { FilterNode } from '../filter/ast';
import type { CompatContext } from '../compat';
import { compileFilter } from '../filter/evaluate';
import { parsePatchPath } from '../filter/parser';
import { ScimSyntaxError } from '../filter/syntax-error';
import { foldKey } from '@shared/scim/index-keys';
import { isRecord } from '../values';

/** A test on one element of a multi-valued attribute (the `[...]` of a value path). */
export type ElementTest = (element: unknown) => boolean;

/** Where a PATCH operation lands (RFC 7644 §3.5.2 PATH). */
export type PatchTarget =
  /** A whole extension, by its URN: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`. */
  | { readonly kind: 'extension'; readonly extension: SchemaDefinition; readonly label: string }
  /** `attr`, `attr.sub`, `urn:...:attr`, `attr[filter]`, `attr[filter].sub`. */
  | {
      readonly kind: 'attribute';
      readonly resolved: ResolvedAttribute;
      readonly filter?: { readonly ast: FilterNode; readonly test: ElementTest };
      readonly label: string;
    }
  /** A well-formed path naming no attribute of this resource type. */
  | { readonly kind: 'unknown'; readonly label: string };

/**
 * Parses and resolves a PATCH path. Syntax comes from the filter parser's `parsePatchPath` (errors
 * are 400 invalidPath with a position); names resolve case-insensitively through the resource
 * schema. The filter of a value path is compiled once into a per-element test.
 */
export function resolvePatchPath(text: string, schema: ResourceSchema, compat?: CompatContext): PatchTarget {
  // RFC 7644 §3.5.2: a path may be an extension's URN alone, which the attribute grammar (URN, then
  // ":" ATTRNAME) would otherwise split into "urn:...:2.0" and "User".
  const extension = schema.extensions.find((e) => e.id.toLowerCase() === text.trim().toLowerCase());
  if (extension) return { kind: 'extension', extension, label: extension.id };

  const parsed = parsePatchPath(text);
  const { uri, name, sub } = parsed.path;
  const attributeOnly = schema.resolve(uri === undefined ? { name } : { uri, name });
  const resolved = schema.resolve(parsed.path);
  const label = labelOf(resolved ?? attributeOnly, name, sub);
  if (!resolved) return { kind: 'unknown', label: uri === undefined ? label : `${uri}:${label}` };
  if (uri === undefined && compat !== undefined) checkBareExtensionName(resolved, name, compat);

  if (!parsed.filter) return { kind: 'attribute', resolved, label };
  const a = resolved.attribute;
  if (a.type === 'complex' && !a.multiValued && compat !== undefined) {
    if (!compat.use('singularValuePath')) {
      throw compat.refuse(
        'singularValuePath',
        'invalidPath',
        `'${a.name}' is a single value, not a list, so its path takes no [filter]; name '${label}' alone`,
      );
    }
  } else if (a.type !== 'complex' || !a.multiValued) {
    throw new ScimSyntaxError(
      'invalidPath',
      0,
      `'${a.name}' is not a multi-valued complex attribute, so it takes no [filter]`,
    );
  }
  return {
    kind: 'attribute',
    resolved,
    filter: { ast: parsed.filter, test: elementTest(parsed.filter, resolved, schema, compat) },
    label,
  };
}

/**
 * A bare name the registry found in an extension (RFC 7644 §3.10 asks for the URN there): taken
 * under `bareExtensionNames`, else refused naming the qualified path. Strict accepted it while it
 * refused the URN-keyed path-less form that is conformant (PATCH probe, session 40).
 */
export function checkBareExtensionName(resolved: ResolvedAttribute, given: string, compat: CompatContext): void {
  if (resolved.container === undefined || compat.use('bareExtensionNames')) return;
  throw compat.refuse(
    'bareExtensionNames',
    'invalidPath',
    `'${given}' is an attribute of ${resolved.container}: name it with that URN in front, as ` +
      `'${resolved.container}:${resolved.attribute.name}'`,
  );
}

function labelOf(resolved: ResolvedAttribute | undefined, name: string, sub: string | undefined): string {
  const base = resolved
    ? resolved.container === undefined
      ? resolved.attribute.name
      : `${resolved.container}:${resolved.attribute.name}`
    : name;
  const subName = resolved?.sub?.name ?? sub;
  return subName === undefined ? base : `${base}.${subName}`;
}

/**
 * Compiles `attr[filter]` with the filter evaluator (same case rules and types as queries), then
 * tests single elements by presenting each as a one-element resource. Evaluator errors (unknown
 * sub-attribute, `gt` on a boolean) keep their position but become invalidPath: in PATCH the filter
 * is part of the path (RFC 7644 §3.5.2).
 */
function elementTest(
  filter: FilterNode,
  resolved: ResolvedAttribute,
  schema: ResourceSchema,
  compat: CompatContext | undefined,
): ElementTest {
  const name = resolved.attribute.name;
  let predicate: (r: Record<string, unknown>) => boolean;
  try {
    predicate = compileFilter({ kind: 'valuePath', path: { uri: resolved.schema, name }, filter }, schema, {
      ...(compat === undefined ? {} : { compat }),
      refusalType: 'invalidPath',
    });
  } catch (e) {
    if (e instanceof ScimSyntaxError) throw new ScimSyntaxError('invalidPath', e.position, e.reason);
    throw e;
  }
  const direct = directEquality(filter, resolved, schema);
  if (direct) return direct;
  const container = resolved.container;
  return (element) => {
    if (!isRecord(element)) return false;
    const holder = { [name]: resolved.attribute.multiValued ? [element] : element };
    return predicate(container === undefined ? holder : { [container]: holder });
  };
}

/**
 * `members[value eq "id"]` is most of the PATCH traffic on big groups. For a single `eq` on a
 * singular string sub-attribute the test reads the element directly, with the same folding the
 * compiled filter uses (caseExact, `foldKey`), instead of wrapping each of 10,000 elements.
 */
function directEquality(
  filter: FilterNode,
  resolved: ResolvedAttribute,
  schema: ResourceSchema,
): ElementTest | undefined {
  if (filter.kind !== 'compare' || filter.op !== 'eq' || typeof filter.value !== 'string') return undefined;
  if (filter.path.uri !== undefined || filter.path.sub !== undefined) return undefined;
  const sub = schema.subAttribute(resolved.attribute, filter.path.name);
  if (!sub || sub.multiValued || (sub.type !== 'string' && sub.type !== 'reference')) return undefined;
  const name = sub.name;
  if (sub.caseExact) {
    const want = filter.value;
    return (el) => isRecord(el) && el[name] === want;
  }
  const want = foldKey(filter.value);
  return (el) => {
    if (!isRecord(el)) return false;
    const v = el[name];
    return typeof v === 'string' && foldKey(v) === want;
  };
}

/**
 * The sub-attribute values a filter pins with `eq` (`type eq "work"`, `type eq "work" and primary eq
 * true`), for `filterNoMatchAdds`: the new element must match the filter it was added through.
 * undefined when the filter is anything else (an `or`, a `co`, ...), which cannot describe one value.
 */
export function equalityTemplate(filter: FilterNode): Record<string, string | number | boolean> | undefined {
  const out: Record<string, string | number | boolean> = {};
  const visit = (n: FilterNode): boolean => {
    if (n.kind === 'and') return visit(n.left) && visit(n.right);
    if (n.kind !== 'compare' || n.op !== 'eq' || n.value === null) return false;
    if (n.path.uri !== undefined || n.path.sub !== undefined) return false;
    out[n.path.name] = n.value;
    return true;
  };
  return visit(filter) ? out : undefined;
}
