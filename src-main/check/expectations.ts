import type { z } from 'zod';
import { describeIssues, errorShape, listShape, resourceShape } from './shapes';
import { fillJson } from './templates';
import type { Exchange, Expectation, Finding, Json, Level } from './types';

/**
 * Turns one expectation and one exchange into findings. Comparisons follow SCIM's own rules where
 * it has them: attribute names are case-insensitive (RFC 7643 §2.1), multi-valued attributes are
 * unordered (so an expected element may match any actual one), and null, an empty array and an
 * absent attribute are the same state (RFC 7643 §2.5).
 */

type Partial = Omit<Expectation, 'status'> & { readonly status?: number | readonly number[] };

export function statusList(status: number | readonly number[] | undefined): readonly number[] {
  if (status === undefined) return [];
  return typeof status === 'number' ? [status] : status;
}

const SHAPES: Record<NonNullable<Expectation['body']>, z.ZodType> = {
  resource: resourceShape,
  list: listShape,
  error: errorShape,
};

/** The answer came, with a status the expectation takes (or names none). */
export function statusMet(expectation: Partial, exchange: Exchange): boolean {
  const statuses = statusList(expectation.status);
  const status = exchange.response?.status;
  return status !== undefined && (statuses.length === 0 || statuses.includes(status));
}

export function evaluate(
  expectation: Partial,
  level: Level,
  exchange: Exchange,
  vars: Readonly<Record<string, string>>,
): Finding[] {
  const findings: Finding[] = [];
  const add = (message: string) => findings.push({ level, message });
  const response = exchange.response;
  if (!response) {
    add(`no response: ${exchange.error ?? 'unknown error'}`);
    return findings;
  }
  const statuses = statusList(expectation.status);
  if (statuses.length > 0 && !statuses.includes(response.status)) {
    add(`status ${response.status}, expected ${statuses.join(' or ')}${errorDetail(response.body)}`);
    // The rest would only restate the wrong status (an error body where a resource was due).
    return findings;
  }
  for (const header of expectation.headers ?? []) {
    if (response.headers[header] === undefined) add(`the ${header} header is missing`);
  }
  if (expectation.body) {
    const parsed = SHAPES[expectation.body].safeParse(response.body);
    if (!parsed.success) add(`the body is not a SCIM ${expectation.body}: ${describeIssues(parsed.error)}`);
  }
  if (expectation.match !== undefined) {
    for (const problem of matchSubset(fillJson(expectation.match, vars), response.body, '')) add(problem);
  }
  for (const path of expectation.absent ?? []) {
    if (isPresent(valueAt(response.body, path))) add(`${path} is returned but should not be`);
  }
  for (const check of expectation.checks ?? []) {
    const problem = check.test(response.body, vars);
    if (problem !== undefined) findings.push({ level: check.level, message: `${check.describe}: ${problem}` });
  }
  return findings;
}

/** How much of a server's error `detail` a finding quotes; a longer one is cut and marked with …. */
const MAX_DETAIL = 200;

/** The first `max` UTF-16 units of `text`, one fewer rather than half of a surrogate pair (an emoji). */
function cutAt(text: string, max: number): string {
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

export function errorDetail(body: unknown): string {
  if (body && typeof body === 'object' && 'detail' in body && typeof body.detail === 'string') {
    const detail = body.detail.length > MAX_DETAIL ? `${cutAt(body.detail, MAX_DETAIL)}…` : body.detail;
    return ` (detail: ${detail})`;
  }
  return '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** RFC 7643 §2.1: attribute names are case-insensitive. */
function getKey(record: Record<string, unknown>, key: string): unknown {
  if (key in record) return record[key];
  const lower = key.toLowerCase();
  for (const [name, value] of Object.entries(record)) if (name.toLowerCase() === lower) return value;
  return undefined;
}

/** `Resources.0.id`, `name.givenName`; extension URNs (which contain dots) are looked up whole. */
export function valueAt(body: unknown, path: string): unknown {
  let current: unknown = body;
  let rest = path;
  while (rest !== '') {
    if (Array.isArray(current)) {
      const [index, ...tail] = rest.split('.');
      current = current[Number(index)];
      rest = tail.join('.');
      continue;
    }
    if (!isRecord(current)) return undefined;
    const key = rest.startsWith('urn:') ? urnKey(current, rest) : rest.split('.')[0]!;
    current = getKey(current, key);
    rest = rest.slice(key.length + 1);
  }
  return current;
}

/** An extension URN contains dots ("2.0"): take the longest key of the record that prefixes the path. */
function urnKey(record: Record<string, unknown>, path: string): string {
  const lower = path.toLowerCase();
  const keys = Object.keys(record).filter((k) => lower === k.toLowerCase() || lower.startsWith(`${k.toLowerCase()}.`));
  return keys.sort((a, b) => b.length - a.length)[0] ?? path.split('.')[0]!;
}

/** RFC 7643 §2.5: null and [] are "unassigned", like absence. */
export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}

/** Every problem with `actual` containing `expected`; empty when it does. */
export function matchSubset(expected: Json, actual: unknown, path: string): string[] {
  const at = path === '' ? 'body' : path;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at}: expected a list, got ${brief(actual)}`];
    return expected.flatMap((item) =>
      actual.some((candidate) => matchSubset(item, candidate, '').length === 0)
        ? []
        : [`${at}: no element matches ${brief(item)} (got ${brief(actual)})`],
    );
  }
  if (expected !== null && typeof expected === 'object') {
    if (!isRecord(actual)) return [`${at}: expected an object, got ${brief(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) => {
      const child = getKey(actual, key);
      const childPath = path === '' ? key : `${path}.${key}`;
      if (child === undefined && value !== null) return [`${childPath} is missing (expected ${brief(value)})`];
      return matchSubset(value, child ?? null, childPath);
    });
  }
  if (expected === actual) return [];
  return [`${at}: expected ${brief(expected)}, got ${brief(actual)}`];
}

function brief(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}
