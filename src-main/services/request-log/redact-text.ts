/**
 * Finding `name: value` pairs in text that does not parse as JSON, for the request log's redaction
 * (redact.ts). Written as a scanner rather than one regular expression: the malformed bodies worth
 * logging spell names loosely (either quote or none, whitespace inside the quotes, a URN prefix)
 * and a pattern loose enough for all of that backtracked cubically on a body of spaces (an 8 KB
 * body took 20 s). Here every character is looked at a bounded number of times.
 */

/** Characters that may stand right before a name: start of a key, or the end of its URN prefix. */
const BEFORE_NAME = new Set(['"', "'", '{', ',', ':', '.', ' ', '\t', '\n', '\r']);
/** How far whitespace and a closing quote may sit between a name and its colon. */
const MAX_GAP = 64;

export interface NamedValue {
  /** Where the value starts and ends in the text (end exclusive). */
  start: number;
  end: number;
  /** The value as written, and the strings quoted inside it (a list's items). */
  raw: string;
  strings: string[];
}

/**
 * The values of the pairs whose name `names` matches (a global, case-insensitive pattern of plain
 * alternatives) in `text`, in order, not overlapping; with `asSuffix`, names that end with a match.
 */
export function findNamedValues(text: string, names: RegExp, options: { asSuffix?: boolean } = {}): NamedValue[] {
  const found: NamedValue[] = [];
  names.lastIndex = 0;
  for (let match = names.exec(text); match; match = names.exec(text)) {
    const nameEnd = match.index + match[0].length;
    const start = options.asSuffix ? wordStartBefore(text, match.index) : match.index;
    const colon = isNameStart(text, start) ? colonAfter(text, nameEnd) : -1;
    if (colon < 0) continue;
    const value = valueAt(text, skipSpace(text, colon + 1, text.length));
    found.push(value);
    // Names inside the value are part of it (already redacted with it).
    names.lastIndex = Math.max(value.end, nameEnd);
  }
  return found;
}

/** Replaces each found value by `replacement`. */
export function replaceValues(text: string, values: readonly NamedValue[], replacement: string): string {
  let out = '';
  let last = 0;
  for (const value of values) {
    out += text.slice(last, value.start) + replacement;
    last = value.end;
  }
  return out + text.slice(last);
}

/** How far back a name may start before the part `asSuffix` matched (`newPassword`, `x_user_passwd`). */
const MAX_NAME_PREFIX = 64;

/** The start of the word that ends at `at`'s match: letters, digits, `_` and `-`, a bounded way back. */
function wordStartBefore(text: string, at: number): number {
  const limit = Math.max(0, at - MAX_NAME_PREFIX);
  let start = at;
  while (start > limit && /[\w-]/.test(text[start - 1]!)) start--;
  return start;
}

function isNameStart(text: string, at: number): boolean {
  if (at === 0) return true;
  const before = text[at - 1]!;
  if (BEFORE_NAME.has(before)) return true;
  // `"\tpassword"`: whitespace written as a JSON escape.
  return (before === 't' || before === 'n' || before === 'r') && text[at - 2] === '\\';
}

/** The index of the colon that follows a name (after whitespace and a closing quote), or -1. */
function colonAfter(text: string, from: number): number {
  const limit = Math.min(text.length, from + MAX_GAP);
  let i = skipSpace(text, from, limit);
  if (text[i] === '"' || text[i] === "'") i = skipSpace(text, i + 1, limit);
  return text[i] === ':' ? i : -1;
}

function skipSpace(text: string, from: number, limit: number): number {
  let i = from;
  while (i < limit) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (c === '\\' && (text[i + 1] === 't' || text[i + 1] === 'n' || text[i + 1] === 'r')) i += 2;
    else break;
  }
  return i;
}

/** A value: quoted (to its closing quote), a list or object (to its closing bracket), or bare. */
function valueAt(text: string, start: number): NamedValue {
  const strings: string[] = [];
  const first = text[start];
  let end: number;
  if (first === '"' || first === "'") {
    end = quotedEnd(text, start);
    strings.push(unquoteRaw(text.slice(start, end)));
  } else if (first === '[' || first === '{') {
    end = containerEnd(text, start, strings);
  } else {
    // Bare: up to what ends a JSON value, so `correct horse battery` goes whole.
    end = start;
    while (end < text.length && !',}]\n\r'.includes(text[end]!)) end++;
    const bare = text.slice(start, end).trim();
    if (bare !== '') strings.push(bare);
  }
  return { start, end, raw: text.slice(start, end), strings };
}

/** The index after the quote closing the string that opens at `start` (or the text's end). */
function quotedEnd(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quote) i += text[i] === '\\' ? 2 : 1;
  return Math.min(text.length, i + 1);
}

/** The index after the bracket closing the list or object that opens at `start` (or the text's end). */
function containerEnd(text: string, start: number, strings: string[]): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      const end = quotedEnd(text, i);
      strings.push(unquoteRaw(text.slice(i, end)));
      i = end;
      continue;
    }
    if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && --depth === 0) return i + 1;
    i++;
  }
  return text.length;
}

function unquoteRaw(quoted: string): string {
  const closed = quoted.length > 1 && quoted.endsWith(quoted[0]!);
  return quoted.slice(1, closed ? -1 : undefined);
}
