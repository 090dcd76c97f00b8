/**
 * The interface between the filter planner (src-main/scim) and the store's indexes
 * (src-main/store). The planner turns a filter into candidate lookups; the store answers each
 * lookup with resource ids. Candidates are always a superset: the evaluator re-checks every
 * candidate, so an index can change the cost of a query, never its answer.
 */

/** The indexes a tenant keeps (DESIGN.md §2, store issue). */
export type IndexName = 'id' | 'userName' | 'externalId' | 'emails.value' | 'displayName' | 'members.value';

export type ResourceKind = 'User' | 'Group';

/**
 * One index probe. Keys of case-insensitive attributes (userName, emails.value, displayName) are
 * case-folded by the planner with `foldKey`, so the store compares keys exactly.
 * `prefix` is only planned on sorted indexes (userName).
 */
export type IndexLookup =
  | { resource: ResourceKind; index: IndexName; match: 'eq'; key: string }
  | { resource: ResourceKind; index: IndexName; match: 'prefix'; key: string };

/** `and` intersects its parts' candidates, `or` unions them; `scan` means every resource. */
export type CandidatePlan =
  | { kind: 'scan' }
  | { kind: 'lookup'; lookup: IndexLookup }
  | { kind: 'and'; plans: CandidatePlan[] }
  | { kind: 'or'; plans: CandidatePlan[] };

/** What the store offers the planner's executor. */
export interface CandidateSource {
  /** Ids of resources whose indexed value matches; order is not significant. */
  lookup(lookup: IndexLookup): Iterable<string>;
  /** Every id of that kind, for `scan`. */
  all(resource: ResourceKind): Iterable<string>;
}

/**
 * Below this length a string is folded each time: the cache would cost more than it saves. The
 * values that reach it are the long ones, which a PATCH value filter or a filter of many terms
 * folds once per operation or term.
 */
const FOLD_CACHE_MIN_LENGTH = 256;
/**
 * From this length V8 hashes a string by its length alone, so every cached string of one length
 * falls in one bucket and a lookup compares their contents: slower than folding (a reviewer
 * measured 83 µs against 30 µs). Longer values are folded each time; the PATCH budget counts them
 * by their length (patch/engine.ts), which bounds what that costs.
 */
const FOLD_CACHE_MAX_LENGTH = 16_383;
/** Characters the cache holds, keys and folds together, before it starts over. */
const FOLD_CACHE_MAX_CHARS = 8 * 1024 * 1024;
const folded = new Map<string, string>();
let foldedChars = 0;

const ABOVE_SURROGATES = /[\uD800-\uFFFF]/;

/**
 * The text with its UTF-16 code units moved so that JavaScript's `<`, which compares code units,
 * orders it by code point (RFC 7644 §3.4.2.3: "Unicode alphabetic sort order"): surrogates (an
 * emoji's halves, 0xD800–0xDFFF) go above 0xE000–0xFFFF, where the code points they make are.
 * Text without either range, nearly all of it, is returned as it is.
 */
export function codePointOrder(text: string): string {
  if (!ABOVE_SURROGATES.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out += String.fromCharCode(unit < 0xd800 ? unit : unit < 0xe000 ? unit + 0x2000 : unit - 0x800);
  }
  return out;
}

/** Case folding used for index keys of caseExact=false attributes. */
export function foldKey(value: string): string {
  if (value.length < FOLD_CACHE_MIN_LENGTH || value.length > FOLD_CACHE_MAX_LENGTH) return caseless(value);
  // A stored value is the same string each time, so the lookup hashes it once (V8 keeps a
  // string's hash) and finds it by reference.
  let key = folded.get(value);
  if (key === undefined) {
    key = caseless(value);
    if (foldedChars + value.length + key.length > FOLD_CACHE_MAX_CHARS) {
      folded.clear();
      foldedChars = 0;
    }
    folded.set(value, key);
    foldedChars += value.length + key.length;
  }
  return key;
}

/**
 * NFC, lower case, and the Greek final sigma as σ. `toLowerCase` writes ς for a Σ that ends a
 * word, so "ΚΟΣ" gave "κος" while "ΚΟΣΜΟΣ" gave "κοσμος": a name did not start with its own
 * beginning, and "ΟΔΟΣ" and "οδοσ" were two users. Unicode's case folding maps ς to σ as well.
 */
export function caseless(value: string): string {
  const lower = value.normalize('NFC').toLowerCase();
  return lower.includes('ς') ? lower.replaceAll('ς', 'σ') : lower;
}
