import type { RequestSource } from '@shared/request-log';
import { isRecord } from '../../scim/values';
import type { LogRow } from './entry';

/**
 * Matching for `list()`. Structured filters run over the in-memory index; free text first looks at
 * the indexed fields (path, query, token name) and only then reads the entry's line (headers and
 * bodies) — from the write buffer, or from disk in spans of nearby lines.
 */

export interface LogFilter {
  tenant_id?: string;
  has_error?: boolean;
  source?: RequestSource;
  /** The SCIM token that authenticated the request. */
  token_id?: string;
  method?: string;
  /** An exact status, or a class such as `4xx`. */
  status?: number | string;
  path?: string;
  q?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  until?: number;
  /** Only entries with a lower seq. */
  before_seq?: number;
  /** Only entries with a higher seq. */
  after_seq?: number;
}

export function structuredMatcher(filter: LogFilter): (row: LogRow) => boolean {
  const method = filter.method?.toUpperCase();
  const path = filter.path?.toLowerCase();
  let statusLow = -Infinity;
  let statusHigh = Infinity;
  if (typeof filter.status === 'number') statusLow = statusHigh = filter.status;
  else if (typeof filter.status === 'string') {
    const exact = /^\d{3}$/.test(filter.status) ? Number(filter.status) : undefined;
    const klass = /^([1-5])xx$/i.exec(filter.status)?.[1];
    if (exact !== undefined) statusLow = statusHigh = exact;
    else if (klass !== undefined) {
      statusLow = Number(klass) * 100;
      statusHigh = statusLow + 99;
    }
  }
  const since = filter.since ?? -Infinity;
  const until = filter.until ?? Infinity;
  const beforeSeq = filter.before_seq ?? Infinity;
  const afterSeq = filter.after_seq ?? -Infinity;
  return (row) =>
    row.seq < beforeSeq &&
    row.seq > afterSeq &&
    (filter.tenant_id === undefined || row.tenant === filter.tenant_id) &&
    (filter.has_error === undefined || row.hasError === filter.has_error) &&
    (filter.source === undefined || row.source === filter.source) &&
    (filter.token_id === undefined || row.token?.id === filter.token_id) &&
    (method === undefined || row.method === method) &&
    row.status >= statusLow &&
    row.status <= statusHigh &&
    row.timeMs >= since &&
    row.timeMs <= until &&
    (path === undefined || row.path.toLowerCase().includes(path));
}

/**
 * Free text over what the index holds. The query is searched as sent and decoded: an IdP's look-up
 * (`filter=userName%20eq%20%22zo%C3%AB%40x.com%22`) is found by the name it looked for, which is
 * what a reader asking why a user was not found types.
 */
export function indexedTextMatch(row: LogRow, needle: string): boolean {
  return (
    row.path.toLowerCase().includes(needle) ||
    row.query.toLowerCase().includes(needle) ||
    decodedQuery(row.query).toLowerCase().includes(needle) ||
    (row.token !== null && row.token.name.toLowerCase().includes(needle)) ||
    // The compatibility flags an entry names: `q=opCaseInsensitive` found nothing, though they show.
    row.flags.some((flag) => flag.toLowerCase().includes(needle))
  );
}

/** `a=b%20c&d=e+f` as `a=b c&d=e f`; a malformed escape reads as U+FFFD, as URLSearchParams reads it. */
function decodedQuery(query: string): string {
  if (!query.includes('%') && !query.includes('+')) return query;
  const pairs: string[] = [];
  for (const [name, value] of new URLSearchParams(query)) pairs.push(`${name}=${value}`);
  return pairs.join('&');
}

/**
 * The needle as it appears inside serialized JSON (lower-cased text): quotes, backslashes and
 * control characters are escaped there, so a search for `a"b` must look for `a\"b`.
 */
function jsonNeedle(needle: string): string {
  return JSON.stringify(needle).slice(1, -1);
}

/** A free-text needle, lower-cased, with what searching for it needs worked out once per query. */
export interface TextNeedle {
  readonly text: string;
  /** As it appears inside a JSON string (`a\"b` for `a"b`); the text itself for most needles. */
  readonly escaped: string;
  /** Found in a detail's text, it may be the detail's own writing: its parts must be read. */
  readonly mayHitStructure: boolean;
}

export function textNeedle(text: string): TextNeedle {
  return { text, escaped: jsonNeedle(text), mayHitStructure: couldMatchTheDetailsOwn(text) };
}

/**
 * Does the line (`<summary>\t<detail>\n`) of this row hold the needle in what the request and its
 * answer carried: header names and values, bodies, the error, what was ignored? The whole detail is
 * searched first, cheaply, in both forms the needle can take there (escaped inside a string, as it
 * is in JSON structure: `"userName":"x"` in a body kept as it came); a line that holds it is then
 * read part by part, unless the needle can only have matched inside a value (and not inside an
 * escape: `nmanager` is in `"Sales\nManager"` as written, not as it reads). The detail's own key
 * names and fixed values are no part: `q=error`, `q=bytes` or `q=false` matched every entry.
 */
export function lineMatches(line: Buffer, start: number, end: number, needle: TextNeedle): boolean {
  const tab = line.indexOf(0x09, start);
  const from = tab >= 0 && tab < end ? tab + 1 : start;
  const text = line.toString('utf8', from, end);
  const lower = text.toLowerCase();
  const { escaped } = needle;
  if (!needle.mayHitStructure) return foundOutsideEscapes(lower, escaped);
  if (!lower.includes(escaped) && (escaped === needle.text || !lower.includes(needle.text))) return false;
  let detail: unknown;
  try {
    detail = JSON.parse(text);
  } catch {
    return lower.includes(escaped); // not the log's own writing: searched as it is
  }
  for (const [part, isJson] of searchedParts(detail)) {
    const lowerPart = part.toLowerCase();
    if (lowerPart.includes(needle.text) || (isJson && lowerPart.includes(escaped))) return true;
  }
  return false;
}

/**
 * Whether the JSON text holds the needle somewhere other than as the start of an escape's letters
 * (`\n`, or `\u00e9`'s `u00e9`). A needle with no quote, backslash or control character starts
 * nowhere else inside one.
 */
function foundOutsideEscapes(json: string, needle: string): boolean {
  for (let at = json.indexOf(needle); at >= 0; at = json.indexOf(needle, at + 1)) {
    if (!startsInsideEscape(json, at)) return true;
  }
  return false;
}

function startsInsideEscape(json: string, at: number): boolean {
  if (escapedBy(json, at)) return true; // the letter of `\n`, `\t`, `\u`…
  // Within `\uXXXX`: up to four characters after a `\u`.
  for (let back = 1; back <= 4 && at - back >= 1; back++) {
    const u = at - back;
    if (json[u] === 'u' && escapedBy(json, u) && /^[0-9a-f]*$/.test(json.slice(u + 1, at))) return true;
  }
  return false;
}

/** The character at `at` follows an odd run of backslashes: it is an escape's letter. */
function escapedBy(json: string, at: number): boolean {
  let run = 0;
  while (at - run - 1 >= 0 && json[at - run - 1] === '\\') run++;
  return run % 2 === 1;
}

/** The detail's own key names (entry.ts buildEntry): a needle inside one can match them. */
const DETAIL_KEYS = [
  'request',
  'response',
  'headers',
  'body',
  'truncated',
  'bytes',
  'error',
  'message',
  'code',
  'cause',
  'ignored',
  'target',
  'reason',
];
/** What the detail writes outside its strings: punctuation, numbers, true, false and null. */
const DETAIL_STRUCTURE = /^[{}[\]:,0-9.+\-truefalsn]*$/;

/**
 * Whether a needle found in a detail's text may have been found in the detail's own writing rather
 * than in a value: one with a quote, a backslash or a control character, one inside a key name
 * (`error`, `byte`), or one of nothing but what is written outside strings (`false,`, `12}`). Any
 * other needle can only have matched inside a string, so it needs no part-by-part reading, which
 * costs four times as much over 100,000 entries.
 */
function couldMatchTheDetailsOwn(needle: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
  if (/["\\\u0000-\u001f]/.test(needle) || DETAIL_STRUCTURE.test(needle)) return true;
  return DETAIL_KEYS.some((key) => key.includes(needle));
}

/** What a reader searches in an entry's detail, each with whether it is JSON text. */
function* searchedParts(detail: unknown): Generator<[string, boolean]> {
  if (!isRecord(detail)) return;
  for (const message of [detail.request, detail.response]) {
    if (!isRecord(message)) continue;
    if (isRecord(message.headers)) {
      for (const [name, value] of Object.entries(message.headers)) {
        yield [name, false];
        for (const one of Array.isArray(value) ? value : [value]) yield [String(one), false];
      }
    }
    const body = message.body;
    if (typeof body === 'string') yield [body, false];
    else if (body !== null && body !== undefined) yield [JSON.stringify(body), true];
  }
  if (isRecord(detail.error)) {
    for (const key of ['message', 'code', 'cause']) {
      const value = detail.error[key];
      if (value !== undefined && value !== null) yield [String(value), false];
    }
  }
  if (Array.isArray(detail.ignored)) {
    for (const item of detail.ignored) {
      if (isRecord(item)) for (const text of [item.target, item.reason]) yield [String(text), false];
    }
  }
}

/** The line at `[start, end)` belongs to `seq` (a guard against a segment rewritten meanwhile). */
export function lineIsFor(line: Buffer, start: number, seq: number): boolean {
  const prefix = `{"id":"${seq}",`;
  return line.toString('utf8', start, start + prefix.length) === prefix;
}
