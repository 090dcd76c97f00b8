import type { AttributeDefinition } from '@shared/scim/schema-types';
import type { AttributeChange } from './types';
import { canonicalJson } from './elements';

/**
 * The change to one attribute between two versions of a resource. Values are compared by content
 * (a PATCH that re-sends the same value changes nothing). Multi-valued attributes are compared by
 * object identity first — the engine copies only the values it writes, so on a 10,000-member group
 * adding one member costs one pass of Set lookups — and the few values that differ by identity are
 * then matched by content, so re-sending a whole membership reports no change.
 */
export function attributeChange(
  label: string,
  a: AttributeDefinition,
  before: unknown,
  after: unknown,
): AttributeChange | undefined {
  if (before === after) return undefined;
  const redacted = a.returned === 'never';
  if (a.multiValued && (Array.isArray(before) || Array.isArray(after))) {
    const { added, removed } = listDiff(asList(before), asList(after));
    if (added.length === 0 && removed.length === 0) return undefined;
    if (redacted) return { attribute: label, multiValued: true, redacted: true };
    return { attribute: label, multiValued: true, added, removed };
  }
  if (canonicalJson(before) === canonicalJson(after)) return undefined;
  if (redacted) return { attribute: label, multiValued: a.multiValued, redacted: true };
  const change: { attribute: string; multiValued: boolean; before?: unknown; after?: unknown } = {
    attribute: label,
    multiValued: a.multiValued,
  };
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  return change;
}

function asList(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

function listDiff(before: readonly unknown[], after: readonly unknown[]): { added: unknown[]; removed: unknown[] } {
  // Values kept in place before and after the edit (the common add / remove of one member) are
  // skipped by identity, so only the edited middle is compared.
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) {
    endB--;
    endA--;
  }
  const beforeSet = new Set(before.slice(start, endB));
  const afterRest = after.slice(start, endA);
  const afterSet = new Set(afterRest);
  const gone = [...beforeSet].filter((v) => !afterSet.has(v));
  const fresh = afterRest.filter((v) => !beforeSet.has(v));
  if (gone.length === 0 || fresh.length === 0) return { added: fresh, removed: gone };
  // Same content under a new identity is no change.
  const counts = new Map<string, number>();
  for (const v of gone) {
    const k = canonicalJson(v);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const added: unknown[] = [];
  for (const v of fresh) {
    const k = canonicalJson(v);
    const n = counts.get(k) ?? 0;
    if (n > 0) counts.set(k, n - 1);
    else added.push(v);
  }
  const removed = gone.filter((v) => {
    const k = canonicalJson(v);
    const n = counts.get(k) ?? 0;
    if (n <= 0) return false;
    counts.set(k, n - 1);
    return true;
  });
  return { added, removed };
}
