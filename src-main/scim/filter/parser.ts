/**
 * SCIM filter and attribute-path parser (RFC 7644 §3.4.2.2 Figure 1, §3.5.2 PATH, §3.10).
 *
 * Why hand-written rather than a library (evaluated 2026; docs/architecture.md, "Filters"):
 * - scim2-parse-filter 0.2.10: good grammar coverage and fast, but does not decode `\uXXXX`
 *   escapes, has no depth limit (20,000 nested parentheses throw RangeError: stack overflow),
 *   errors carry no position, and its evaluator is schema-unaware (case-sensitive userName, dateTime
 *   compared as text, `emails[...]` value paths did not match in our test).
 * - scimmy 1.3.5 (Types.Filter): accepts invalid filters (`userName eq`, `a pr b`, `a eq 01`),
 *   rejects valid escapes (`\"`), builds a lossy AST (and-terms merged into one object per
 *   attribute, so it cannot be printed back), and drags in a whole SCIM framework.
 * - scim-query-filter-parser 2.0.4: rejects URN-prefixed paths and `not (...)`, reports only
 *   "Failed to parse!", and exposes compiled predicates rather than an AST to plan from.
 * None gives what the planner, the PATCH engine and the UI need: a plain AST, positions and
 * reasons, hard limits. The grammar is small; this file is the whole of it.
 *
 * Shape: a single-pass recursive descent over the text. `and`/`or` chains are loops, so recursion
 * depth is bounded by grouping depth (parentheses, `not`, brackets), which is capped; input length
 * and the number of comparisons are capped too, so no input can stall or overflow the stack.
 */
import type { AttributePath } from '@shared/scim/registry';
import { COMPARE_OPS, recordPosition, type CompValue, type CompareOp, type FilterNode, type PatchPath } from './ast';
import { ScimSyntaxError, type SyntaxErrorType } from './syntax-error';

export interface FilterLimits {
  /** Characters of filter text. */
  maxLength: number;
  /** Grouping depth: parentheses, `not (...)` and value-path brackets. */
  maxDepth: number;
  /** Attribute expressions (comparisons and `pr`). */
  maxTerms: number;
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = { maxLength: 8192, maxDepth: 16, maxTerms: 512 };

// RFC 7644 §3.10 ATTRNAME = ALPHA *(nameChar); `$ref` is the one reserved name with a `$`, and
// like every name it is read in any case (RFC 7643 §2.1).
const ATTR_NAME = /^(?:\$ref|[A-Za-z][A-Za-z0-9_-]*)$/i;
// A word: an attribute path (URN-qualified or dotted), an operator or a keyword.
const WORD_CHAR = /[A-Za-z0-9_:.$-]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const COMPARE_SET: ReadonlySet<string> = new Set(COMPARE_OPS);
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class Parser {
  private pos = 0;
  private terms = 0;

  constructor(
    private readonly text: string,
    private readonly limits: FilterLimits,
    private readonly errorType: SyntaxErrorType,
  ) {
    if (text.length > limits.maxLength) {
      this.fail(limits.maxLength, `longer than ${limits.maxLength} characters`);
    }
  }

  fail(at: number, reason: string): never {
    throw new ScimSyntaxError(this.errorType, at, reason);
  }

  /** Whole-filter entry: `FILTER` and nothing after it. */
  parseWhole(): FilterNode {
    const node = this.orExpr(0, false);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(this.pos, `unexpected ${this.describeHere()}`);
    return node;
  }

  /** Whole-path entry: `attrPath / valuePath [subAttr]` and nothing after it. */
  parsePatchPath(): PatchPath {
    this.skipSpace();
    const start = this.pos;
    const word = this.readWord();
    if (word === '') this.fail(start, 'expected an attribute path');
    const path = this.toPath(word, start);
    let result: PatchPath = { path };
    if (this.text[this.pos] === '[') {
      if (path.sub !== undefined) this.fail(this.pos, 'a value filter applies to an attribute, not a sub-attribute');
      const filter = this.bracket(0);
      const sub = this.subAfterBracket();
      result = { path: sub === undefined ? path : recordPosition({ ...path, sub }, start), filter };
    }
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(this.pos, `unexpected ${this.describeHere()}`);
    return result;
  }

  /** Bare attribute path (sortBy, attributes): no filter allowed. */
  parseBarePath(): AttributePath {
    this.skipSpace();
    const start = this.pos;
    const word = this.readWord();
    if (word === '') this.fail(start, 'expected an attribute name');
    const path = this.toPath(word, start);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(this.pos, `unexpected ${this.describeHere()}`);
    return path;
  }

  private orExpr(depth: number, inValuePath: boolean): FilterNode {
    let left = this.andExpr(depth, inValuePath);
    while (this.keyword('or')) {
      const at = this.pos;
      left = recordPosition({ kind: 'or', left, right: this.andExpr(depth, inValuePath) }, at);
    }
    return left;
  }

  private andExpr(depth: number, inValuePath: boolean): FilterNode {
    let left = this.unary(depth, inValuePath);
    while (this.keyword('and')) {
      const at = this.pos;
      left = recordPosition({ kind: 'and', left, right: this.unary(depth, inValuePath) }, at);
    }
    return left;
  }

  private unary(depth: number, inValuePath: boolean): FilterNode {
    this.skipSpace();
    const start = this.pos;
    if (this.text[this.pos] === '(') return this.group(depth, inValuePath);
    const word = this.readWord();
    if (word === '') {
      this.fail(
        start,
        this.pos >= this.text.length
          ? 'expected an expression, found the end'
          : `expected an attribute name, found ${this.describeHere()}`,
      );
    }
    if (word.toLowerCase() === 'not') {
      const afterWord = this.pos;
      this.skipSpace();
      if (this.text[this.pos] === '(') {
        return recordPosition({ kind: 'not', filter: this.group(depth, inValuePath) }, start);
      }
      // RFC 7644 Figure 1: `not` takes a parenthesised filter. A bare `not` can still be an
      // attribute named "not" if an operator or a value filter follows; otherwise say what is wrong.
      const next = this.text[afterWord] === '[' ? '[' : this.readWord().toLowerCase();
      this.pos = afterWord;
      if (next !== '[' && next !== 'pr' && !COMPARE_SET.has(next))
        this.fail(start, "'not' must be followed by a filter in parentheses");
    }
    return this.attributeExpression(word, start, depth, inValuePath);
  }

  private group(depth: number, inValuePath: boolean): FilterNode {
    const open = this.pos;
    if (depth + 1 > this.limits.maxDepth) this.fail(open, `nested deeper than ${this.limits.maxDepth} levels`);
    this.pos++; // '('
    const inner = this.orExpr(depth + 1, inValuePath);
    this.skipSpace();
    if (this.text[this.pos] !== ')') {
      this.fail(this.pos, `expected ')' to close the '(' at position ${open + 1}, found ${this.describeHere()}`);
    }
    this.pos++;
    return inner;
  }

  private attributeExpression(word: string, start: number, depth: number, inValuePath: boolean): FilterNode {
    const path = this.toPath(word, start);
    if (++this.terms > this.limits.maxTerms) this.fail(start, `more than ${this.limits.maxTerms} comparisons`);
    if (this.text[this.pos] === '[') {
      if (inValuePath) this.fail(this.pos, 'value filters cannot be nested');
      if (path.sub !== undefined) this.fail(this.pos, 'a value filter applies to an attribute, not a sub-attribute');
      const filter = this.bracket(depth);
      const subAt = this.pos;
      const sub = this.subAfterBracket();
      if (sub === undefined) return recordPosition({ kind: 'valuePath', path, filter }, start);
      // `emails[type eq "work"].value eq "x"` is PATCH path syntax, not Figure 1, but IdPs send it
      // (Entra's matching on `emails[type eq "work"].value`); it means the same element must match both.
      const tail = this.operatorAndValue(recordPosition({ name: sub }, subAt), subAt);
      const both = recordPosition({ kind: 'and' as const, left: filter, right: tail }, subAt);
      return recordPosition({ kind: 'valuePath', path, filter: both }, start);
    }
    return this.operatorAndValue(path, start);
  }

  private operatorAndValue(path: AttributePath, start: number): FilterNode {
    this.skipSpace();
    const opAt = this.pos;
    const op = this.readWord().toLowerCase();
    if (op === 'pr') return recordPosition({ kind: 'present', path }, start);
    if (!COMPARE_SET.has(op)) {
      this.fail(
        opAt,
        `expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found ${op === '' ? this.describeHere() : `'${op}'`}`,
      );
    }
    const value = this.readValue(isPasswordPath(path));
    return recordPosition({ kind: 'compare', path, op: op as CompareOp, value }, start);
  }

  private bracket(depth: number): FilterNode {
    const open = this.pos;
    if (depth + 1 > this.limits.maxDepth) this.fail(open, `nested deeper than ${this.limits.maxDepth} levels`);
    this.pos++; // '['
    const inner = this.orExpr(depth + 1, true);
    this.skipSpace();
    if (this.text[this.pos] !== ']') {
      this.fail(this.pos, `expected ']' to close the '[' at position ${open + 1}, found ${this.describeHere()}`);
    }
    this.pos++;
    return inner;
  }

  private subAfterBracket(): string | undefined {
    if (this.text[this.pos] !== '.') return undefined;
    const at = ++this.pos;
    const word = this.readWord();
    if (!ATTR_NAME.test(word))
      this.fail(
        at,
        `expected a sub-attribute name after ']', found ${word === '' ? this.describeHere() : `'${word}'`}`,
      );
    return word;
  }

  /** `secret`: the value is a guess at a password, and a message describes it by its shape only. */
  private readValue(secret = false): CompValue {
    this.skipSpace();
    const at = this.pos;
    const c = this.text[this.pos];
    if (c === '"') return this.readString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.readNumber(secret);
    const raw = this.readWord();
    const word = raw.toLowerCase();
    // ABNF literals are case-insensitive (RFC 5234 §2.3), so `True` is `true`.
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    const found = secret
      ? `${this.pos > at ? 'a word' : 'text'} that is not one (not repeated here: it may be a password)`
      : raw === ''
        ? this.describeHere()
        : `'${raw}'`;
    return this.fail(at, `expected a value (a "quoted string", a number, true, false or null), found ${found}`);
  }

  private readString(): string {
    const open = this.pos++;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail(open, 'unterminated string');
      if (c === '"') break;
      if (c < ' ') this.fail(this.pos, 'control character in string (escape it, e.g. \\n)');
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = this.text[this.pos + 1];
      if (e === 'u') {
        const hex = this.text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.fail(this.pos, 'invalid \\u escape (four hex digits expected)');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
        continue;
      }
      const plain = e === undefined ? undefined : ESCAPES[e];
      if (plain === undefined) this.fail(this.pos, `invalid escape '\\${e ?? ''}'`);
      out += plain;
      this.pos += 2;
    }
    this.pos++; // closing quote
    return out;
  }

  private readNumber(secret = false): number {
    const at = this.pos;
    NUMBER.lastIndex = at;
    const m = NUMBER.exec(this.text);
    if (!m) return this.fail(at, 'malformed number');
    this.pos += m[0].length;
    // `01`, `1.`, `1e` and `5abc` are not JSON numbers; the next character must end the token.
    const next = this.text[this.pos];
    if (next !== undefined && WORD_CHAR.test(next)) {
      this.fail(
        at,
        secret ? 'malformed number (not repeated here: it may be a password)' : `malformed number '${m[0]}${next}'`,
      );
    }
    const n = Number(m[0]);
    if (!Number.isFinite(n)) this.fail(at, 'number out of range');
    return n;
  }

  /** `and` / `or` after an expression; anything else leaves the position alone. */
  private keyword(word: 'and' | 'or'): boolean {
    const save = this.pos;
    this.skipSpace();
    const found = this.readWord();
    if (found.toLowerCase() === word) return true;
    this.pos = save;
    return false;
  }

  private readWord(): string {
    const start = this.pos;
    while (this.pos < this.text.length && WORD_CHAR.test(this.text[this.pos] as string)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private skipSpace(): void {
    // RFC 7644 requires SP; tabs and line breaks are accepted since they can only mean a space.
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') break;
      this.pos++;
    }
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'the end';
    return `'${this.text.slice(this.pos, this.pos + 12)}'`;
  }

  /** `[urn ":"] ATTRNAME ["." subAttr]`: the URN is everything before the last colon. */
  private toPath(word: string, start: number): AttributePath {
    const colon = word.lastIndexOf(':');
    const uri = colon >= 0 ? word.slice(0, colon) : undefined;
    if (uri !== undefined && !/^urn:[A-Za-z0-9]/i.test(uri)) {
      this.fail(start, `'${word}' is not an attribute path (a schema prefix must be a URN)`);
    }
    const rest = word.slice(colon + 1);
    const parts = rest.split('.');
    const [name, sub] = parts;
    if (
      parts.length > 2 ||
      name === undefined ||
      !ATTR_NAME.test(name) ||
      (sub !== undefined && !ATTR_NAME.test(sub))
    ) {
      this.fail(start, `'${word}' is not an attribute path`);
    }
    const path: { uri?: string; name: string; sub?: string } = { name };
    if (uri !== undefined) path.uri = uri;
    if (sub !== undefined) path.sub = sub;
    return recordPosition(path, start);
  }
}

/** Parses a filter (RFC 7644 §3.4.2.2). Throws ScimSyntaxError (400 invalidFilter) and nothing else. */
export function parseFilter(text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): FilterNode {
  return new Parser(text, limits, 'invalidFilter').parseWhole();
}

/**
 * Parses a PATCH path (RFC 7644 §3.5.2): `name.sub`, `urn:...:name.sub`, `emails[type eq "work"]`,
 * `emails[type eq "work"].value`. Throws ScimSyntaxError with scimType invalidPath.
 */
export function parsePatchPath(text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): PatchPath {
  return new Parser(text, limits, 'invalidPath').parsePatchPath();
}

/** Parses one bare attribute path (`sortBy`, an item of `attributes`). Throws invalidValue. */
export function parseAttributePath(text: string): AttributePath {
  return new Parser(text, DEFAULT_FILTER_LIMITS, 'invalidValue').parseBarePath();
}

/**
 * A comparison with `password` (or a `password.value` IdPs write): the parser knows no schema, and
 * password is the core schemas' one attribute never returned (RFC 7643 §4.1.1), so what it is
 * compared with is a guess at one, which an error message would otherwise repeat into the log.
 */
function isPasswordPath(path: AttributePath): boolean {
  return path.name.toLowerCase() === 'password' || path.sub?.toLowerCase() === 'password';
}
