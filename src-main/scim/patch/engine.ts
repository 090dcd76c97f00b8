/**
 * The SCIM PATCH engine (RFC 7644 §3.5.2): add, remove and replace, with and without `path`,
 * sub-attribute and value-filter paths, extension URNs, and the compatibility flags IdPs need.
 *
 * Why hand-written rather than a library (evaluated 2026 on the cases in test/fixtures/idp and
 * rfc7644-3.5.2-patch.json):
 * - scim-patch 0.8.3: schema-unaware — stores "False" as a string, changes readOnly `id`, adds
 *   unknown attributes, allows two `primary: true`; mutates its input and is not atomic (a failing
 *   second operation leaves the first applied); and `add` with path `__proto__.polluted` polluted
 *   Object.prototype. No notion of named leniencies.
 * - scimmy 1.3.5 (Messages.PatchOp): needs its own schema classes (a second copy of our
 *   definitions), is strict-only (refuses "False" and a bare manager id with no hook to allow them),
 *   duplicated an existing member on add, and reports nothing about what changed.
 * Neither can say which compatibility flag changed or refused a request, which is the product.
 *
 * Shape: copy-on-write over the stored resource. Only containers and values an operation writes are
 * copied (a 10,000-member array is sliced, its member objects shared), so the input is never
 * modified, a failure anywhere simply throws (the PATCH is atomic: nothing to undo), and the change
 * report can compare values by identity. Keys are always the schema's own names, never input keys.
 */
import type { CompatFlags } from '@shared/scim/compat-flags';
import { foldKey } from '@shared/scim/index-keys';
import { requiredStringProblem } from '@shared/scim/zod-schema';
import type { ResolvedAttribute, ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition, SchemaDefinition } from '@shared/scim/schema-types';
import { CompatContext } from '../compat';
import { ScimError } from '../errors';
import { attributePaths, type FilterNode } from '../filter/ast';
import { printFilter } from '../filter/printer';
import { ScimSyntaxError } from '../filter/syntax-error';
import { isPresent, isRecord, type ResourceData } from '../values';
import {
  acceptNull,
  coerceComplex,
  coerceElement,
  coerceElements,
  coerceScalar,
  coerceSingularComplex,
  givenOnce,
  invalidValue,
  unknownAttribute,
  type ValueContext,
} from './coerce';
import { attributeChange } from './diff';
import {
  canonicalJson,
  elementKeyFn,
  enforceOnePrimary,
  mergeElements,
  mutabilityError,
  removeElements,
  withElementDefaults,
  withoutRepeats,
} from './elements';
import { parsePatchRequest } from './request';
import { checkBareExtensionName, equalityTemplate, resolvePatchPath, type PatchTarget } from './target';
import type { AttributeChange, IgnoredTarget, PatchOpName, PatchOperation, PatchResult } from './types';

/**
 * How many values of multi-valued attributes one PATCH may go through, all operations together.
 * Each operation on a list reads it whole (a filter tests every value, a write copies the array),
 * so 10,000 `remove emails[value eq "..."]` on a user with 20,000 emails held the event loop, and
 * every other request, for 14 s. Indexing the lists would not help: the copy is per operation.
 * Two million is ~0.15 s here, and far beyond what an IdP sends: twenty operations on a
 * 100,000-member group, or one that removes a list of members. A long value counts once more per
 * CHARS_PER_VALUE characters past its first SHORT_VALUE_CHARS, since a filter reads it whole (`co`
 * can take ~6 ns a character): 1,000 operations on twenty 50 KB emails held the event loop for 5 s
 * while counting as 20,000 values. Now such a PATCH is refused within ~0.25 s.
 */
export const MAX_PATCH_LIST_VALUES = 2_000_000;
/** An email, a phone number, a member (its id and type) count once. */
const SHORT_VALUE_CHARS = 64;
const CHARS_PER_VALUE = 16;
/**
 * What rewriting a value a filter matched counts on top of reading it: a new copy of it, and the
 * pass that looks for values the write made equal. Measured at ~7 times a read: counted as reads,
 * 2,000 operations each rewriting the type of 1,000 emails stayed within the bound and held the
 * event loop, every tenant's requests waiting, for 2.6 s (security probe).
 */
const REWRITE_WEIGHT = 6;

/**
 * What is left of MAX_PATCH_LIST_VALUES. One per PATCH by default; a Bulk request gives all its
 * PATCH operations one (scope `Bulk request`), or a 4 MiB Bulk of PATCHes each just under the
 * bound would hold the server for minutes.
 */
export class PatchListBudget {
  used = 0;
  constructor(
    readonly max: number = MAX_PATCH_LIST_VALUES,
    readonly scope: string = 'PATCH',
  ) {}
}

/** Given no filter, the view of the attribute's elements whatever a filter would read. */
export type FilterView = (
  attribute: string,
  filter: FilterNode | undefined,
) => ((element: unknown) => unknown) | undefined;

export interface PatchOptions {
  /** The resource type's schema (per tenant, custom extensions included). */
  readonly schema: ResourceSchema;
  /** The tenant's flags, or this request's context (fired flags then accumulate in it). */
  readonly compat: CompatFlags | CompatContext;
  /**
   * How the stored values of a multi-valued attribute read to a value filter, when the caller
   * derives some of what it answers (a member's `display` and `$ref`): a view for this attribute
   * and filter, or undefined when the filter reads stored values only. So `members[display eq
   * "x"]` selects what a GET shows. Matching and the immutability check see the view; values
   * written stay as stored.
   */
  readonly filterView?: FilterView;
  /** The list work this PATCH may do (see MAX_PATCH_LIST_VALUES); a new one by default. */
  readonly listBudget?: PatchListBudget;
}

/** Validates a PatchOp body and applies it. Throws ScimError; the input resource is never modified. */
export function applyPatch(resource: ResourceData, body: unknown, options: PatchOptions): PatchResult {
  const compat = contextOf(options.compat);
  const ops = parsePatchRequest(body, compat);
  return new PatchRun(resource, options, compat).run(ops);
}

function contextOf(compat: CompatFlags | CompatContext): CompatContext {
  return compat instanceof CompatContext ? compat : new CompatContext(compat);
}

type AttributeTarget = Extract<PatchTarget, { kind: 'attribute' }>;

interface Touched {
  readonly label: string;
  readonly resolved: ResolvedAttribute;
}

const SIMPLE_NAME = /^(?:\$ref|[A-Za-z][A-Za-z0-9_-]*)$/;

class PatchRun {
  private readonly work: Record<string, unknown>;
  /** Objects this run created, so they can be written in place. */
  private readonly owned = new WeakSet<object>();
  private readonly touched = new Map<string, Touched>();
  private readonly touchedExtensions = new Set<string>();
  private readonly ignored: IgnoredTarget[] = [];
  private n = 0;
  private where = '';
  private vctx!: ValueContext;
  private readonly schema: ResourceSchema;
  private readonly filterView: FilterView | undefined;
  private readonly budget: PatchListBudget;

  constructor(
    private readonly original: ResourceData,
    options: PatchOptions,
    private readonly compat: CompatContext,
  ) {
    this.schema = options.schema;
    this.filterView = options.filterView;
    this.budget = options.listBudget ?? new PatchListBudget();
    this.work = { ...original };
    this.owned.add(this.work);
  }

  run(ops: readonly PatchOperation[]): PatchResult {
    ops.forEach((op, i) => this.operation(op, i + 1));
    return this.finish();
  }

  // ---- dispatch ----------------------------------------------------------------------------

  private operation(op: PatchOperation, n: number): void {
    this.n = n;
    this.where = `Operation ${n} (${op.op}${op.path === undefined ? '' : ` ${op.path}`})`;
    this.vctx = {
      schema: this.schema,
      compat: this.compat,
      mode: 'patch',
      where: this.where,
      ignore: (target, reason) => this.ignored.push({ operation: n, target, reason }),
    };
    if (op.path === undefined) return this.pathless(op);
    let target: PatchTarget;
    try {
      target = resolvePatchPath(op.path, this.schema, this.compat);
    } catch (e) {
      if (e instanceof ScimSyntaxError)
        throw new ScimSyntaxError('invalidPath', e.position, `${e.reason} (operation ${n})`);
      throw e;
    }
    if (target.kind === 'unknown') return this.unknownPath(target.label);
    if (target.kind === 'extension') return this.extension(op.op, target.extension, op.value, op.hasValue);
    this.attribute(op.op, target, op.value, op.hasValue);
  }

  private unknownPath(label: string): void {
    if (this.compat.isOn('strictSchemaValidation')) {
      throw this.compat.refuse(
        'strictSchemaValidation',
        'invalidPath',
        `${this.where}: '${label}' is not an attribute of this resource type`,
      );
    }
    this.vctx.ignore(label, 'not an attribute of this resource type');
  }

  /** RFC 7644 §3.5.2.1/3: no path — the value is a fragment of the resource, attribute by attribute. */
  private pathless(op: PatchOperation): void {
    if (op.op === 'remove') {
      throw ScimError.badRequest('noTarget', `${this.where}: remove needs a "path" (RFC 7644 §3.5.2.2)`);
    }
    const value = op.value;
    if (!isRecord(value)) throw invalidValue(this.vctx, 'without a "path", "value" must be an object of attributes');
    const once = givenOnce(this.vctx);
    for (const [key, v] of Object.entries(value)) {
      const extension = this.extensionByUrn(key);
      if (extension) {
        once(extension.id, key);
        this.extension(op.op, extension, v, true, once);
        continue;
      }
      if (key.toLowerCase() === 'schemas') {
        this.schemasWrite(v);
        continue;
      }
      if (SIMPLE_NAME.test(key)) {
        const resolved = this.schema.resolve({ name: key });
        if (!resolved) unknownAttribute(key, this.vctx);
        else {
          checkBareExtensionName(resolved, key, this.compat);
          once(labelOf(resolved), key);
          this.attribute(op.op, { kind: 'attribute', resolved, label: labelOf(resolved) }, v, true);
        }
        continue;
      }
      this.qualifiedKey(op.op, key, v, once);
    }
  }

  /**
   * A path-less key that is itself a path: `urn:...:User:manager` or `name.givenName`. `given`: the
   * key as the client wrote it, when `key` is it with its extension's URN in front (`manager.value`
   * inside the enterprise extension's object).
   */
  private qualifiedKey(
    op: PatchOpName,
    key: string,
    v: unknown,
    once: (name: string, key: string) => void,
    given = key,
  ): void {
    let target: PatchTarget;
    try {
      target = resolvePatchPath(key, this.schema, this.compat);
    } catch (e) {
      if (!(e instanceof ScimSyntaxError)) throw e;
      return unknownAttribute(key, this.vctx);
    }
    if (target.kind === 'unknown') return unknownAttribute(key, this.vctx);
    // Entra ID's older path-less replace keys values by full paths, filters included:
    // {"name.givenName": ..., "emails[type eq \"work\"].value": ..., "urn:...:User:manager": ...}.
    const flag = /^urn:/i.test(given) ? 'pathlessUrnAttributeKeys' : 'pathlessDottedKeys';
    if (!this.compat.use(flag)) {
      throw this.compat.refuse(
        flag,
        'invalidValue',
        `${this.where}: the key '${given}' is an attribute path; RFC 7644 §3.5.2 wants attribute names, with sub-attributes and extension attributes nested in objects`,
      );
    }
    if (target.kind === 'extension') {
      once(target.extension.id, key);
      this.extension(op, target.extension, v, true, once);
    } else {
      // A whole attribute under its URN (`urn:…:User:displayName`) is the same as its bare name; a
      // sub-attribute or a filtered value (`name.givenName`, `emails[type eq "work"].value`) is a
      // part of one, which may sit beside it.
      if (!target.filter && !target.resolved.sub) once(labelOf(target.resolved), key);
      this.attribute(op, target, v, true);
    }
  }

  private extensionByUrn(key: string): SchemaDefinition | undefined {
    const lower = key.toLowerCase();
    return this.schema.extensions.find((e) => e.id.toLowerCase() === lower);
  }

  /** A whole extension (path = its URN, or its URN as a path-less key). */
  /** `once`, for a path-less value: the names it gave at the top level, which the extension's share. */
  private extension(
    op: PatchOpName,
    ext: SchemaDefinition,
    value: unknown,
    hasValue: boolean,
    once = givenOnce(this.vctx),
  ): void {
    if (op === 'remove' || (hasValue && value === null && acceptNull(ext.id, this.vctx))) {
      for (const a of ext.attributes) {
        const resolved = this.schema.resolve({ uri: ext.id, name: a.name });
        if (resolved && this.peek(resolved) !== undefined) {
          this.remove({ kind: 'attribute', resolved, label: labelOf(resolved) }, undefined, false);
        }
      }
      return;
    }
    if (!isRecord(value)) throw invalidValue(this.vctx, `'${ext.id}' takes an object of its attributes`);
    for (const [key, v] of Object.entries(value)) {
      // `{"manager.value": …}` inside the extension's object: a path under its URN, read as the
      // same key at the top level is (it was ignored as "not an attribute", and the manager not set).
      if (!SIMPLE_NAME.test(key)) {
        this.qualifiedKey(op, `${ext.id}:${key}`, v, once, key);
        continue;
      }
      const resolved = this.schema.resolve({ uri: ext.id, name: key });
      if (!resolved) unknownAttribute(`${ext.id}:${key}`, this.vctx);
      else {
        once(labelOf(resolved), key);
        this.attribute(op, { kind: 'attribute', resolved, label: labelOf(resolved) }, v, true);
      }
    }
  }

  /** `schemas` is derived from the attributes present (see finish), so writes are checked and ignored. */
  private schemasWrite(v: unknown): void {
    const known = [this.schema.core.id, ...this.schema.extensions.map((e) => e.id)].map((s) => s.toLowerCase());
    const list = Array.isArray(v) ? v : [v];
    for (const s of list) {
      if (typeof s !== 'string' || !known.includes(s.toLowerCase())) {
        throw invalidValue(this.vctx, `'schemas' lists ${JSON.stringify(s)}, not a schema of this resource type`);
      }
    }
    this.vctx.ignore('schemas', 'derived from the attributes present');
  }

  // ---- one attribute -------------------------------------------------------------------------

  private attribute(op: PatchOpName, target: AttributeTarget, value: unknown, hasValue: boolean): void {
    const { resolved, label } = target;
    const a = resolved.attribute;
    if (resolved.container === undefined && a.name === 'schemas') {
      if (!resolved.sub && !target.filter) return this.schemasWrite(op === 'remove' ? [] : value);
    }
    // RFC 7643 §7 / RFC 7644 §3.5.2: readOnly attributes SHALL NOT be modified (400 mutability).
    if (a.mutability === 'readOnly' || resolved.sub?.mutability === 'readOnly') {
      if (a.name === 'id' && resolved.container === undefined && op !== 'remove' && value === this.work['id']) {
        // Okta repeats the group's own id in a path-less rename.
        if (this.compat.use('sameIdIgnored')) return this.vctx.ignore('id', "repeats the resource's own id");
        throw this.compat.refuse('sameIdIgnored', 'mutability', `${this.where}: 'id' is readOnly, even when repeated`);
      }
      throw mutabilityError(this.where, label, 'readOnly (RFC 7643 §7)');
    }
    if (target.filter && !a.multiValued) return this.singularFiltered(op, target, value, hasValue);
    if (op === 'remove') return this.remove(target, value, hasValue);
    if (value === null) {
      acceptNull(label, this.vctx);
      return this.remove(target, undefined, false);
    }
    if (target.filter) return this.filtered(op, target, value);
    const sub = resolved.sub;
    if (sub) {
      if (a.multiValued) throw this.needsFilter(a, sub);
      return this.mergeComplex(target, coerceComplex(a, { [sub.name]: value }, a.name, this.vctx, true));
    }
    if (a.multiValued) {
      const incoming = coerceElements(a, value, label, this.vctx);
      const current = this.listOf(resolved, asList(this.peek(resolved)));
      // RFC 7644 §3.5.2.1: add merges without duplicates; §3.5.2.3: replace sets all values, the
      // list as given, as POST and PUT store it. Merged, a work and a home email of one address
      // became one, so a replace restating what GET showed lost a value (members collapse in the
      // service, on every write).
      const next =
        op === 'add'
          ? mergeElements(a, this.schema, current, incoming)
          : incoming.map((el) => withElementDefaults(a, el));
      // An add merged by identity leaves nothing repeated; a list given whole may repeat a value.
      return this.setList(resolved, current, next, op !== 'add');
    }
    if (a.type === 'complex') return this.mergeComplex(target, coerceSingularComplex(a, value, label, this.vctx));
    const v = coerceScalar(a, value, label, this.vctx);
    const current = this.peek(resolved);
    if (a.mutability === 'immutable' && current !== undefined && canonicalJson(current) !== canonicalJson(v)) {
      this.immutable(label);
    }
    this.set(resolved, v);
  }

  /**
   * RFC 7644 §3.5.2.1/3: a complex value is merged — given sub-attributes replace, others stay. When
   * the `value` sub-attribute changes (a new manager), the rest described the old referent
   * (`$ref`, `displayName`), so the given object replaces it instead.
   */
  private mergeComplex(target: AttributeTarget, given: Record<string, unknown>): void {
    const { resolved } = target;
    const a = resolved.attribute;
    const current = this.peek(resolved);
    const existing = isRecord(current) ? current : {};
    const newReferent = given['value'] !== undefined && given['value'] !== null && existing['value'] !== given['value'];
    const next: Record<string, unknown> = newReferent ? {} : { ...existing };
    for (const [k, v] of Object.entries(given)) {
      const def = this.schema.subAttribute(a, k);
      if (
        def?.mutability === 'immutable' &&
        existing[k] !== undefined &&
        canonicalJson(existing[k]) !== canonicalJson(v)
      ) {
        this.immutable(`${a.name}.${k}`);
      }
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.set(resolved, isPresent(next) ? next : undefined);
  }

  /** The indexes of the values a filter selects, each read through the caller's view. */
  private matching(
    attribute: string,
    list: readonly unknown[],
    filter: { readonly ast: FilterNode; readonly test: (el: unknown) => boolean },
  ): number[] {
    const view = this.filterView?.(attribute, filter.ast);
    const out: number[] = [];
    for (let i = 0; i < list.length; i++) if (filter.test(view ? view(list[i]) : list[i])) out.push(i);
    return out;
  }

  /** `attr[filter]` and `attr[filter].sub` for add and replace. */
  private filtered(op: PatchOpName, target: AttributeTarget, value: unknown): void {
    const { resolved, label } = target;
    const filter = target.filter!;
    const a = resolved.attribute;
    const sub = resolved.sub;
    const current = this.listOf(resolved, asList(this.peek(resolved)), filter.ast);
    const matches = this.matching(a.name, current, filter);
    if (matches.length === 0) {
      // RFC 7644 §3.5.2.3: "no record match was made" is 400 noTarget; Entra ID expects the value
      // to be created (its first work email), which filterNoMatchAdds does from the filter's eq terms.
      const template = equalityTemplate(filter.ast);
      const what = `no value of '${a.name}' matches [${printFilter(filter.ast)}]`;
      if (!template) throw ScimError.badRequest('noTarget', `${this.where}: ${what}`);
      if (!this.compat.use('filterNoMatchAdds'))
        throw this.compat.refuse('filterNoMatchAdds', 'noTarget', `${this.where}: ${what}`);
      const base = coerceComplex(a, template, a.name, this.vctx, false);
      const given = sub
        ? coerceComplex(a, { [sub.name]: value }, a.name, this.vctx, false)
        : (coerceElement(a, value, label, this.vctx) as Record<string, unknown>);
      const made = { ...base, ...given };
      // Merged into a value of the same identity only when that value says nothing against the
      // filter's terms (`emails[primary eq true].value` naming the one address: it becomes
      // primary). One the filter missed for another type is another value, appended: merged, a
      // home email of the address asked for as work had its type rewritten (POST keeps the two
      // apart too).
      const key = elementKeyFn(a, this.schema);
      const madeKey = key(made);
      const at = current.findIndex((el) => key(el) === madeKey && !contradicts(el, base, this.schema, a));
      const next = [...current];
      // Into that value itself: merged by identity, the first value of the address took it, which
      // may be the one the filter was against.
      if (at >= 0) {
        // A value labelled apart from it (another `type`) is appended by the merge.
        const [merged, ...apart] = mergeElements(a, this.schema, [current[at]], [made]);
        next[at] = merged;
        next.push(...apart);
      } else next.push(withElementDefaults(a, made));
      return this.setList(resolved, current, next, true);
    }
    const next = [...current];
    // Immutable parts are compared with what the client can see of an element, as the filter
    // matched it: a member's `$ref` is made when read, so the stored element has none to protect.
    const view = this.filterView?.(a.name, undefined);
    this.rewrites(resolved, matches.length);
    // "all matching record values SHALL be replaced" — a new record, so immutable parts may differ.
    if (!sub && op === 'replace') {
      const record = withElementDefaults(a, coerceElement(a, value, label, this.vctx));
      for (const i of matches) next[i] = record;
      return this.setList(resolved, current, next, true);
    }
    if (!sub && !isRecord(value)) throw invalidValue(this.vctx, `'${label}' takes an object of sub-attributes`);
    // Read once, not once per value it goes into: 1,000 matches read it 1,000 times, and a PATCH
    // of 2,000 such operations held every tenant's requests for 2.6 s (security probe).
    const given = coerceComplex(
      a,
      sub ? { [sub.name]: value } : (value as Record<string, unknown>),
      a.name,
      this.vctx,
      true,
    );
    for (const i of matches) {
      const el = current[i] as Record<string, unknown>;
      const shown = (view ? view(el) : el) as Record<string, unknown>;
      const merged: Record<string, unknown> = { ...el };
      for (const [k, v] of Object.entries(given)) {
        const def = this.schema.subAttribute(a, k);
        if (def?.mutability === 'immutable' && shown[k] !== undefined && !sameImmutable(def, shown[k], v)) {
          this.immutable(`${a.name}.${k}`);
        }
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      next[i] = merged;
    }
    this.setList(resolved, current, next, true);
  }

  /**
   * `manager[value eq "id"]` (singularValuePath): the operation applies, without its filter, when
   * the attribute's value matches; otherwise nothing matched, as for a filter on a list.
   */
  private singularFiltered(op: PatchOpName, target: AttributeTarget, value: unknown, hasValue: boolean): void {
    const { resolved, label } = target;
    const filter = target.filter!;
    const current = this.peek(resolved);
    const matched = current !== undefined && this.matching(resolved.attribute.name, [current], filter).length > 0;
    if (matched) return this.attribute(op, { kind: 'attribute', resolved, label }, value, hasValue);
    const what = `the value of '${resolved.attribute.name}' does not match [${printFilter(filter.ast)}]`;
    if (op !== 'remove') throw ScimError.badRequest('noTarget', `${this.where}: ${what}`);
    if (this.compat.use('removeNoMatchSucceeds')) return this.vctx.ignore(label, `${what}; nothing to remove`);
    throw this.compat.refuse('removeNoMatchSucceeds', 'noTarget', `${this.where}: ${what}`);
  }

  /** RFC 7644 §3.5.2.2. */
  private remove(target: AttributeTarget, value: unknown, hasValue: boolean): void {
    const { resolved, label } = target;
    const a = resolved.attribute;
    const sub = resolved.sub;
    const current = this.peek(resolved);
    // A value where removeValueList gives it no meaning below (a filtered path, a sub-attribute, a
    // simple attribute): it was ignored in every profile, strict too, and `remove title` with a
    // stale value wiped the title another client had just set (PATCH probe, session 40).
    // A singular complex attribute with a `value` (manager): a remove's value names which one goes.
    const valueSub = a.type === 'complex' ? this.schema.subAttribute(a, 'value') : undefined;
    const listsValues = !target.filter && !sub && (a.multiValued || valueSub !== undefined);
    if (hasValue && value !== null && !listsValues) {
      if (!this.compat.use('removeValueList')) {
        throw this.compat.refuse(
          'removeValueList',
          'invalidValue',
          `${this.where}: remove takes no "value"${target.filter || sub ? '; the path selects what goes' : ''}`,
        );
      }
      const same =
        a.type === 'complex' || target.filter || sub || current === undefined
          ? undefined
          : this.sameScalar(a, current, value, label);
      if (same === false) return this.vctx.ignore(label, 'its value is not the one given; nothing to remove');
      if (same === undefined) this.vctx.ignore(label, 'remove takes no "value"; the path alone said what went');
    }
    if (target.filter) {
      const list = this.listOf(resolved, asList(current), target.filter.ast);
      const matches = this.matching(a.name, list, target.filter);
      if (matches.length === 0) {
        const what = `no value of '${a.name}' matches [${printFilter(target.filter.ast)}]`;
        if (this.compat.use('removeNoMatchSucceeds')) return this.vctx.ignore(label, `${what}; nothing to remove`);
        throw this.compat.refuse('removeNoMatchSucceeds', 'noTarget', `${this.where}: ${what}`);
      }
      const drop = new Set(matches);
      let next: unknown[];
      if (sub) {
        if (sub.mutability === 'immutable') this.immutable(label);
        this.rewrites(resolved, matches.length);
        // An element left with nothing in it is gone: no GET shows `{}`, and a later filter such as
        // `[not (value pr)]` must not find a value nobody can see.
        next = list
          .map((el, i) => (drop.has(i) && isRecord(el) ? without(el, sub.name) : el))
          .filter((el, i) => !drop.has(i) || !isRecord(el) || Object.keys(el).length > 0);
      } else {
        // "the values matched by the filter are removed".
        next = list.filter((_, i) => !drop.has(i));
      }
      // A value that lost a sub-attribute may now equal another; one that went takes nothing along.
      return this.setList(resolved, list, next, sub !== undefined);
    }
    if (sub) {
      if (a.multiValued) throw this.needsFilter(a, sub);
      if (!isRecord(current) || current[sub.name] === undefined) return;
      if (sub.mutability === 'immutable') this.immutable(label);
      const next = without(current, sub.name);
      return this.set(resolved, isPresent(next) ? next : undefined);
    }
    // Where Entra sends the members to remove, a null is "no value", which removes them all: only
    // where nulls are absent values. Strict refuses it rather than empty the group.
    if (a.multiValued && hasValue && value === null) acceptNull(label, this.vctx);
    if (a.multiValued && hasValue && value !== null) {
      // Entra ID: {"op":"Remove","path":"members","value":[{"value":"id"}]}. RFC 7644 §3.5.2.2 has no
      // value for remove and would drop every member; off, we refuse rather than empty the group.
      if (!this.compat.use('removeValueList')) {
        throw this.compat.refuse(
          'removeValueList',
          'invalidValue',
          `${this.where}: remove takes no "value"; to remove some values use a filter, e.g. ${a.name}[value eq "..."]`,
        );
      }
      const list = this.listOf(resolved, asList(current));
      return this.setList(
        resolved,
        list,
        removeElements(a, this.schema, list, coerceElements(a, value, label, this.vctx)),
        false,
      );
    }
    if (current === undefined) return; // already unassigned: nothing to do
    // {"op":"remove","path":"…:manager","value":{"value":"id"}}: as for a list, only a value listed
    // goes. Removed whatever was listed, a stale removal naming the previous manager wiped the new.
    if (valueSub && hasValue && value !== null && isRecord(current)) {
      if (!this.compat.use('removeValueList')) {
        throw this.compat.refuse(
          'removeValueList',
          'invalidValue',
          `${this.where}: remove takes no "value"; to remove '${label}' only while it is a given one, use a filter, e.g. ${label}[value eq "..."]`,
        );
      }
      const listed = asList(value).map((given) => (isRecord(given) ? given['value'] : given));
      if (!listed.some((given) => given !== undefined && given === current['value'])) {
        return this.vctx.ignore(label, 'its value is none of those given; nothing to remove');
      }
    }
    if (a.mutability === 'immutable') this.immutable(label);
    // RFC 7644 §3.5.2.2: removing a required attribute is a "mutability" error.
    if (a.required) throw mutabilityError(this.where, label, 'required and cannot be removed (RFC 7644 §3.5.2.2)');
    this.set(resolved, undefined);
  }

  /**
   * Whether a value given (read as a write reads it) is the attribute's, in the attribute's case
   * rule; undefined when it cannot be read as one (then it says nothing either way).
   */
  private sameScalar(a: AttributeDefinition, current: unknown, given: unknown, label: string): boolean | undefined {
    // The shapes Entra wraps values in for members: [{"value": x}], {"value": x}, [x].
    let unwrapped = Array.isArray(given) && given.length === 1 ? given[0] : given;
    if (isRecord(unwrapped) && Object.keys(unwrapped).length === 1 && 'value' in unwrapped) unwrapped = unwrapped.value;
    let value: unknown;
    try {
      value = coerceScalar(a, unwrapped, label, this.vctx);
    } catch (error) {
      if (error instanceof ScimError) return undefined;
      throw error;
    }
    if (typeof current === 'string' && typeof value === 'string' && a.type === 'string' && !a.caseExact) {
      return foldKey(current) === foldKey(value);
    }
    return canonicalJson(current) === canonicalJson(value);
  }

  private needsFilter(a: AttributeDefinition, sub: AttributeDefinition): ScimError {
    return ScimError.badRequest(
      'invalidPath',
      `${this.where}: '${a.name}' is multi-valued; select values with a filter, e.g. ${a.name}[${exampleTerm(a)}].${sub.name}`,
    );
  }

  private immutable(label: string): never {
    throw mutabilityError(this.where, label, 'immutable: set when the value is created, never changed (RFC 7643 §7)');
  }

  /**
   * A list an operation is about to go through, counted against MAX_PATCH_LIST_VALUES: once per
   * value, or once per value and filter term when a filter tests each value.
   */
  private listOf(resolved: ResolvedAttribute, list: readonly unknown[], filter?: FilterNode): readonly unknown[] {
    const terms = filter ? [...attributePaths(filter)].length : 1;
    const per = terms > 1 ? ` and each of its filter's ${terms} terms` : '';
    this.spend(
      weightOf(list) * Math.max(1, terms),
      () => `reads each of the ${list.length.toLocaleString('en-US')} values of '${resolved.attribute.name}'${per}`,
    );
    return list;
  }

  /** Values a filter matched that an operation rewrites (see REWRITE_WEIGHT). */
  private rewrites(resolved: ResolvedAttribute, count: number): void {
    this.spend(
      count * REWRITE_WEIGHT,
      () => `rewrites ${count.toLocaleString('en-US')} values of '${resolved.attribute.name}'`,
    );
  }

  private spend(weight: number, what: () => string): void {
    this.budget.used += weight;
    if (this.budget.used <= this.budget.max) return;
    throw ScimError.badRequest(
      'tooMany',
      `${this.where}: this ${this.budget.scope} would go through more than ${this.budget.max.toLocaleString('en-US')} ` +
        `values of multi-valued attributes in all, a long value counting once more per ${CHARS_PER_VALUE} characters ` +
        `and a value rewritten ${REWRITE_WEIGHT} times more (this operation ${what()}); ` +
        `send its operations in several requests.`,
    );
  }

  // ---- copy-on-write storage -----------------------------------------------------------------

  private peek(resolved: ResolvedAttribute): unknown {
    if (resolved.container === undefined) return this.work[resolved.attribute.name];
    const ext = this.work[resolved.container];
    return isRecord(ext) ? ext[resolved.attribute.name] : undefined;
  }

  /** The object that holds the attribute, owned by this run (copied on first write). */
  private holder(resolved: ResolvedAttribute, create: boolean): Record<string, unknown> | undefined {
    const c = resolved.container;
    if (c === undefined) return this.work;
    this.touchedExtensions.add(c);
    const ext = this.work[c];
    if (isRecord(ext)) {
      if (this.owned.has(ext)) return ext;
      const copy = { ...ext };
      this.owned.add(copy);
      this.work[c] = copy;
      return copy;
    }
    if (!create) return undefined;
    const fresh: Record<string, unknown> = {};
    this.owned.add(fresh);
    this.work[c] = fresh;
    return fresh;
  }

  private set(resolved: ResolvedAttribute, value: unknown): void {
    const name = resolved.attribute.name;
    const key = `${resolved.container ?? ''}\u0000${name}`;
    if (!this.touched.has(key)) this.touched.set(key, { label: labelOf({ ...resolved, sub: undefined }), resolved });
    const h = this.holder(resolved, value !== undefined);
    if (!h) return;
    if (value === undefined) delete h[name];
    else h[name] = value;
  }

  /**
   * Stores a multi-valued attribute after the one-primary rule; an empty list is unassigned
   * (§3.5.2.2). `mayRepeat` says whether the write can have made a value equal to another (see
   * withoutRepeats): only then is the list searched, which an add to a group of 10,000 members
   * would otherwise pay for on every operation.
   */
  private setList(resolved: ResolvedAttribute, before: readonly unknown[], next: unknown[], mayRepeat: boolean): void {
    if (next === before) return;
    const a = resolved.attribute;
    if (mayRepeat) {
      next = withoutRepeats(a, this.schema, next, (count) =>
        this.vctx.ignore(a.name, `${count} value(s) equal to another in the list; kept once`),
      );
    }
    // The values this write created (by identity), computed only when the attribute has `primary`.
    const written = () => {
      const old = new Set(before);
      return new Set(next.filter((el) => !old.has(el)));
    };
    const checked = enforceOnePrimary(a, this.schema, next, written, this.compat, this.where);
    this.set(resolved, checked.length > 0 ? checked : undefined);
  }

  // ---- result --------------------------------------------------------------------------------

  private finish(): PatchResult {
    this.deriveSchemas();
    const changes: AttributeChange[] = [];
    for (const { label, resolved } of this.touched.values()) {
      const a = resolved.attribute;
      const after = this.peek(resolved);
      // Unassigned is RFC 7644 §3.5.2.2's "mutability"; blank ("" too) is a bad value, as on create
      // and PUT (RFC 7643 §4.1.1's non-empty userName), so it is told first.
      const problem = a.required && typeof after === 'string' ? requiredStringProblem(after) : undefined;
      if (problem) {
        throw ScimError.badRequest('invalidValue', `Required attribute '${label}' ${problem}.`);
      }
      if (a.required && !isPresent(after)) {
        throw ScimError.badRequest('mutability', `The PATCH would leave required attribute '${label}' unassigned.`);
      }
      const change = attributeChange(label, a, valueIn(this.original, resolved), after);
      if (change) changes.push(change);
    }
    return {
      resource: this.work,
      changed: changes.map((c) => c.attribute),
      changes,
      fired: this.compat.fired,
      ignored: this.ignored,
    };
  }

  /**
   * RFC 7643 §3: `schemas` lists the extensions the resource carries. An extension emptied by the
   * PATCH is removed with its URN; one that gained attributes gets its URN listed.
   */
  private deriveSchemas(): void {
    if (this.touchedExtensions.size === 0) return;
    const before = Array.isArray(this.work['schemas']) ? (this.work['schemas'] as unknown[]) : [this.schema.core.id];
    let schemas = [...before];
    for (const urn of this.touchedExtensions) {
      const present = isPresent(this.work[urn]);
      if (!present) delete this.work[urn];
      const listed = schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase());
      if (present && !listed) schemas.push(urn);
      if (!present && listed)
        schemas = schemas.filter((s) => typeof s !== 'string' || s.toLowerCase() !== urn.toLowerCase());
    }
    if (canonicalJson(schemas) !== canonicalJson(before)) this.work['schemas'] = schemas;
  }
}

function labelOf(resolved: ResolvedAttribute): string {
  const base =
    resolved.container === undefined ? resolved.attribute.name : `${resolved.container}:${resolved.attribute.name}`;
  return resolved.sub ? `${base}.${resolved.sub.name}` : base;
}

function valueIn(resource: ResourceData, resolved: ResolvedAttribute): unknown {
  if (resolved.container === undefined) return resource[resolved.attribute.name];
  const ext = resource[resolved.container];
  return isRecord(ext) ? ext[resolved.attribute.name] : undefined;
}

function asList(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

/**
 * What going through a list counts against MAX_PATCH_LIST_VALUES: each value once, and once more
 * per CHARS_PER_VALUE characters of its text past SHORT_VALUE_CHARS. Kept per array: the operations of a PATCH
 * read the same array until one of them writes it (copy-on-write), so a 100,000-member group is
 * weighed once, not once per operation.
 */
const listWeights = new WeakMap<readonly unknown[], number>();

function weightOf(list: readonly unknown[]): number {
  let weight = listWeights.get(list);
  if (weight === undefined) {
    weight = 0;
    for (const value of list) {
      weight += 1 + Math.max(0, Math.ceil((charsOf(value) - SHORT_VALUE_CHARS) / CHARS_PER_VALUE));
    }
    listWeights.set(list, weight);
  }
  return weight;
}

/** The characters of a value's text: a string's, or those of a complex value's string sub-values. */
function charsOf(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (!isRecord(value)) return 0;
  let chars = 0;
  for (const sub of Object.values(value)) if (typeof sub === 'string') chars += sub.length;
  return chars;
}

function without(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}

/**
 * Whether a client restates an immutable value. A reference (`$ref`) is the same if it names the
 * same resource: a client that read the group on the other base path (`/scim/v2` or the tenant's)
 * holds another URL for it.
 */
function sameImmutable(def: AttributeDefinition, current: unknown, given: unknown): boolean {
  if (def.type === 'reference' && typeof current === 'string' && typeof given === 'string') {
    return resourcePath(current) === resourcePath(given);
  }
  return canonicalJson(current) === canonicalJson(given);
}

/** The last two segments of a resource URL: `Users/<id>`. */
function resourcePath(url: string): string {
  return url.replace(/\/+$/, '').split('/').slice(-2).join('/');
}

/**
 * Whether a value holds, for one of a filter's `eq` terms, another value than the term: its type
 * is "home" where the filter asked for "work". `primary`, a flag on the value, says nothing of
 * which value it is. Text is compared as SCIM compares it: case-insensitively unless caseExact.
 */
function contradicts(
  el: unknown,
  terms: Record<string, unknown>,
  schema: ResourceSchema,
  a: AttributeDefinition,
): boolean {
  if (!isRecord(el)) return false;
  return Object.entries(terms).some(([name, wanted]) => {
    const def = schema.subAttribute(a, name);
    const has = el[name];
    if (name === 'primary' || has === undefined) return false;
    if (typeof has === 'string' && typeof wanted === 'string' && !def?.caseExact)
      return foldKey(has) !== foldKey(wanted);
    return canonicalJson(has) !== canonicalJson(wanted);
  });
}

/**
 * A filter term an attribute's values can really be chosen by, for an error's example: `type eq
 * "work"` where the client sets the type (emails), else by `value` (a group's members, whose type
 * is the server's and never "work").
 */
function exampleTerm(a: AttributeDefinition): string {
  const type = a.subAttributes.find((s) => s.name === 'type' && s.mutability === 'readWrite');
  if (type) return `type eq "${type.canonicalValues.includes('work') ? 'work' : (type.canonicalValues[0] ?? 'work')}"`;
  return a.subAttributes.some((s) => s.name === 'value')
    ? 'value eq "..."'
    : `${a.subAttributes[0]?.name ?? 'value'} pr`;
}
