import { parseDateTimeMicros } from '@shared/scim/datetime';
import type { ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import type { CompatContext } from '../compat';
import { codePointOrder, foldKey } from '@shared/scim/index-keys';
import { containerOf, isPresent, isRecord, type ResourceData } from '../values';
import { attributePaths, positionOf, type AttributePath, type CompValue, type CompareOp, type FilterNode } from './ast';
import { printAttributePath } from './printer';
import { ScimSyntaxError } from './syntax-error';
import type { FilterWork } from './work';

/** A compiled filter: true when the resource matches. */
export type Predicate = (resource: ResourceData) => boolean;

type Test = (value: unknown) => boolean;
/** Calls `test` on each value the path reaches in `obj`; true as soon as one passes. */
type Any = (obj: ResourceData, test: Test) => boolean;

interface Access {
  readonly any: Any;
  /** The attribute whose type and case rules apply to the values `any` reaches. */
  readonly leaf: AttributeDefinition;
}

/** Where paths are resolved: the resource, or the elements of a value path's attribute. */
type Scope = { readonly kind: 'resource' } | { readonly kind: 'element'; readonly parent: AttributeDefinition };

/**
 * Resolves every path against the resource type's schema once and returns a closure, so a scan of
 * 100,000 resources does no name lookups. Throws ScimSyntaxError (400 invalidFilter, RFC 7644 §3.12:
 * "the specified attribute and filter comparison combination is not supported") for unknown
 * attributes and for operators the attribute's type does not support.
 */
export function compileFilter(ast: FilterNode, schema: ResourceSchema, options: FilterOptions = {}): Predicate {
  return new Compiler(schema, options).node(ast, { kind: 'resource' });
}

export interface FilterOptions {
  /**
   * For a search across resource types (POST /.search, RFC 7644 §3.4.3): "for filtered attributes
   * that are not part of a particular resource type, the service provider SHALL treat the
   * attribute as if there is no attribute value" (§3.4.2.1). Unknown top-level attributes then
   * read as absent instead of failing the filter; see `checkKnownToSome` for typos.
   */
  unknownAsAbsent?: boolean;
  /**
   * The request's compatibility flags: `booleanStrings` decides whether a boolean attribute may be
   * compared with the string "True"/"False" (`active eq "True"`), and records it as fired when used.
   * Without flags the string is accepted, as the default profile does.
   */
  compat?: CompatContext;
  /** The scimType of that refusal: a PATCH value filter is part of a path (RFC 7644 §3.5.2). */
  refusalType?: 'invalidFilter' | 'invalidPath';
  /** Times the comparisons (the clock read every 1,024) and refuses the list past its budget (see work.ts). */
  work?: FilterWork;
}

/**
 * Throws invalidFilter for an attribute that none of `schemas` has: absent in every type, it is a
 * typo, not a filter on another type's attribute.
 */
export function checkKnownToSome(ast: FilterNode, schemas: readonly ResourceSchema[]): void {
  for (const { path, parent } of attributePaths(ast)) {
    if (parent === undefined && !schemas.some((schema) => schema.resolve(path))) {
      throw new ScimSyntaxError(
        'invalidFilter',
        positionOf(path) ?? 0,
        `unknown attribute '${printAttributePath(path)}'`,
      );
    }
  }
}

/** Matches nothing: what a comparison on an attribute the type does not have gives. */
const NEVER: Predicate = () => false;
const ALWAYS: Predicate = () => true;

class Compiler {
  constructor(
    private readonly schema: ResourceSchema,
    private readonly options: FilterOptions,
  ) {}

  node(node: FilterNode, scope: Scope): Predicate {
    if (node.kind === 'compare' || node.kind === 'present' || node.kind === 'valuePath') {
      if (scope.kind === 'resource' && this.options.unknownAsAbsent && !this.schema.resolve(node.path)) {
        // No value: `ne` and `eq null` hold ("not equal", "absent"); everything else fails.
        const holds =
          node.kind === 'compare' && (node.op === 'ne' ? node.value !== null : node.value === null && node.op === 'eq');
        return holds ? ALWAYS : NEVER;
      }
    }
    switch (node.kind) {
      case 'and': {
        const l = this.node(node.left, scope);
        const r = this.node(node.right, scope);
        return (x) => l(x) && r(x);
      }
      case 'or': {
        const l = this.node(node.left, scope);
        const r = this.node(node.right, scope);
        return (x) => l(x) || r(x);
      }
      case 'not': {
        const f = this.node(node.filter, scope);
        return (x) => !f(x);
      }
      case 'valuePath':
        return this.valuePath(node.path, node.filter, scope);
      case 'present': {
        const { any } = this.access(node.path, scope);
        return (x) => any(x, isPresent);
      }
      case 'compare':
        return this.compare(node.path, node.op, node.value, scope);
    }
  }

  private fail(at: object, reason: string): never {
    throw new ScimSyntaxError('invalidFilter', positionOf(at) ?? 0, reason);
  }

  private valuePath(path: AttributePath, filter: FilterNode, scope: Scope): Predicate {
    if (scope.kind === 'element') this.fail(path, 'value filters cannot be nested');
    const resolved = this.schema.resolve(path);
    if (!resolved) this.fail(path, `unknown attribute '${printAttributePath(path)}'`);
    const attribute = resolved.attribute;
    if (attribute.type !== 'complex' || resolved.sub) {
      this.fail(path, `'${printAttributePath(path)}' is not a complex attribute, so it takes no [value filter]`);
    }
    const inner = this.node(filter, { kind: 'element', parent: attribute });
    const name = attribute.name;
    // RFC 7644 §3.4.2.2: a value filter matches when one element satisfies all of it.
    return (resource) => {
      const v = containerOf(resource, resolved)?.[name];
      if (Array.isArray(v)) return v.some((el) => isRecord(el) && inner(el));
      return isRecord(v) && inner(v);
    };
  }

  private access(path: AttributePath, scope: Scope): Access {
    const found = this.reach(path, scope);
    // A filter on a value never returned (a password) would be a way to test guesses against it;
    // matching nothing instead would read as "no user has one".
    if (found.leaf.returned === 'never') {
      this.fail(path, `'${printAttributePath(path)}' is never returned, so it cannot be filtered on`);
    }
    return found;
  }

  private reach(path: AttributePath, scope: Scope): Access {
    if (scope.kind === 'element') {
      if (path.uri !== undefined || path.sub !== undefined) {
        this.fail(path, `inside [ ], name a sub-attribute of '${scope.parent.name}' (no prefix, no dot)`);
      }
      const leaf = this.schema.subAttribute(scope.parent, path.name);
      if (!leaf) this.fail(path, `'${scope.parent.name}' has no sub-attribute '${path.name}'`);
      return { leaf, any: step(leaf.name, leaf.multiValued) };
    }
    const resolved = this.schema.resolve(path);
    if (!resolved) this.fail(path, `unknown attribute '${printAttributePath(path)}'`);
    const { attribute, sub } = resolved;
    const top: Any = (resource, test) => {
      const c = containerOf(resource, resolved);
      return c !== undefined && each(c[attribute.name], attribute.multiValued, test);
    };
    if (!sub) return { leaf: attribute, any: top };
    const inner = step(sub.name, sub.multiValued);
    return { leaf: sub, any: (resource, test) => top(resource, (el) => isRecord(el) && inner(el, test)) };
  }

  private compare(path: AttributePath, op: CompareOp, value: CompValue, scope: Scope): Predicate {
    let { any, leaf } = this.access(path, scope);
    const label = printAttributePath(path);
    if (value === null) {
      // Not in RFC 7644; read the way clients mean it: `eq null` is "absent", `ne null` "present".
      if (op === 'eq') return (x) => !any(x, isPresent);
      if (op === 'ne') return (x) => any(x, isPresent);
      this.fail(path, `'${op}' cannot compare with null`);
    }
    if (leaf.type === 'complex') {
      // RFC 7644 §3.4.2.2 examples compare `emails co "example.com"`: a complex attribute with no
      // sub-attribute named compares through its `value`.
      const valueSub = this.schema.subAttribute(leaf, 'value');
      if (!valueSub) this.fail(path, `'${label}' is complex; compare one of its sub-attributes`);
      const outer = any;
      const name = valueSub.name;
      any = (x, test) => outer(x, (el) => isRecord(el) && test(el[name]));
      leaf = valueSub;
    }
    // `ne` is "not eq": a user without that email, a group without that member (for a multi-valued
    // attribute, "some element differs" would match nearly everything). Absent values are "not eq".
    const bare = this.test(leaf, op === 'ne' ? 'eq' : op, value, path, label);
    const work = this.options.work;
    const test: Test = work
      ? (v) => {
          work.count();
          return bare(v);
        }
      : bare;
    return op === 'ne' ? (x) => !any(x, test) : (x) => any(x, test);
  }

  private test(
    leaf: AttributeDefinition,
    op: Exclude<CompareOp, 'ne'>,
    value: Exclude<CompValue, null>,
    at: object,
    label: string,
  ): Test {
    switch (leaf.type) {
      case 'string':
      case 'reference':
      case 'binary': {
        if (typeof value !== 'string') this.fail(at, `'${label}' is a ${leaf.type}; compare it with a "quoted string"`);
        if (leaf.type === 'binary' && op !== 'eq') this.fail(at, `'${label}' is binary; only eq, ne and pr apply`);
        // RFC 7643 §2.3.1/§7 caseExact; foldKey is the same folding the indexes use (src-shared/scim/index-keys.ts).
        const fold = leaf.caseExact ? (s: string) => s : foldKey;
        const t = fold(value);
        // gt, ge, lt, le compare by code point, as sortBy orders (see codePointOrder).
        const orderKey = codePointOrder(t);
        const str =
          (f: (s: string) => boolean): Test =>
          (v) =>
            typeof v === 'string' && f(fold(v));
        switch (op) {
          case 'eq':
            return str((s) => s === t);
          case 'co':
            return str((s) => s.includes(t));
          case 'sw':
            return str((s) => s.startsWith(t));
          case 'ew':
            return str((s) => s.endsWith(t));
          case 'gt':
            return str((s) => codePointOrder(s) > orderKey);
          case 'ge':
            return str((s) => codePointOrder(s) >= orderKey);
          case 'lt':
            return str((s) => codePointOrder(s) < orderKey);
          case 'le':
            return str((s) => codePointOrder(s) <= orderKey);
        }
        break;
      }
      case 'boolean': {
        // RFC 7644 §3.4.2.2: gt/ge/lt/le on booleans SHALL fail with invalidFilter.
        if (op !== 'eq') this.fail(at, `'${label}' is boolean; only eq, ne and pr apply`);
        const b = typeof value === 'string' ? lenientBoolean(value) : value;
        if (typeof b !== 'boolean') this.fail(at, `'${label}' is boolean; compare it with true or false`);
        if (typeof value === 'string') this.booleanString(at, label, value);
        return (v) => v === b || (typeof v === 'string' && lenientBoolean(v) === b);
      }
      case 'integer':
      case 'decimal': {
        if (typeof value !== 'number') this.fail(at, `'${label}' is a number; compare it with a number`);
        return ordered(
          op,
          value,
          (v) => (typeof v === 'number' ? v : undefined),
          () => this.fail(at, `'${op}' does not apply to numbers`),
        );
      }
      case 'dateTime': {
        if (op === 'co' || op === 'sw' || op === 'ew')
          this.fail(at, `'${op}' does not apply to dateTime; use gt, ge, lt, le or eq`);
        const t = typeof value === 'string' ? parseDateTimeMicros(value) : undefined;
        if (t === undefined)
          this.fail(
            at,
            `'${label}' is a dateTime; compare it with a quoted xsd:dateTime such as "2011-05-13T04:42:34Z"`,
          );
        // RFC 7643 §2.3.5: instants, so offsets and fractional seconds compare correctly.
        return ordered(
          op,
          t,
          (v) => (typeof v === 'string' ? parseDateTimeMicros(v) : undefined),
          () => this.fail(at, `'${op}' does not apply to dateTime`),
        );
      }
      case 'complex':
        break;
    }
    return this.fail(at, `'${label}' cannot be compared with '${op}'`);
  }

  /**
   * `active eq "True"`: a boolean given as a string (RFC 7643 §2.3.2 wants the literal). Where
   * `booleanStrings` is off this is refused as invalidFilter, as every other value of the wrong
   * type in a filter is (a string for a number, a number for a string): matching nothing instead
   * would answer a client's mistake with an empty list that looks like a real answer.
   */
  private booleanString(at: object, label: string, value: string): void {
    const compat = this.options.compat;
    if (!compat || compat.use('booleanStrings')) return;
    const refusalType = this.options.refusalType ?? 'invalidFilter';
    throw compat.refuse(
      'booleanStrings',
      refusalType,
      `${refusalType === 'invalidPath' ? 'Invalid path' : 'Invalid filter'} at position ${(positionOf(at) ?? 0) + 1}: '${label}' is boolean; compare it with the JSON literal true or false, not the string ${JSON.stringify(value)}`,
    );
  }
}

function lenientBoolean(s: string): boolean | undefined {
  const l = s.toLowerCase();
  return l === 'true' ? true : l === 'false' ? false : undefined;
}

function ordered(
  op: Exclude<CompareOp, 'ne'>,
  t: number,
  read: (v: unknown) => number | undefined,
  refuse: () => never,
): Test {
  const num =
    (f: (n: number) => boolean): Test =>
    (v) => {
      const n = read(v);
      return n !== undefined && f(n);
    };
  switch (op) {
    case 'eq':
      return num((n) => n === t);
    case 'gt':
      return num((n) => n > t);
    case 'ge':
      return num((n) => n >= t);
    case 'lt':
      return num((n) => n < t);
    case 'le':
      return num((n) => n <= t);
    default:
      return refuse();
  }
}

/** Calls `test` on a value or, for a multi-valued attribute, on each element (RFC 7644 §3.4.2.2 "any"). */
function each(value: unknown, multiValued: boolean, test: Test): boolean {
  if (value === undefined || value === null) return false;
  if (multiValued && Array.isArray(value)) return value.some((v) => v !== null && v !== undefined && test(v));
  return test(value);
}

function step(name: string, multiValued: boolean): Any {
  return (obj, test) => each(obj[name], multiValued, test);
}
