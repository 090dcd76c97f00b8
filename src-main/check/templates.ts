import type { Json } from './types';

/**
 * `{{name}}` templates in step definitions: filled from variables captured earlier in the run
 * (ids the server assigned, the run's unique suffix). A step whose template names a variable that
 * was never captured is skipped — its cause is the earlier failure, which is already reported.
 */

const TEMPLATE = /\{\{(\w+)\}\}/g;

export class MissingVariable extends Error {
  constructor(
    readonly variable: string,
    why = 'which an earlier step did not provide',
  ) {
    super(`needs {{${variable}}}, ${why}`);
  }
}

function lookup(vars: Readonly<Record<string, string>>, name: string): string {
  const value = vars[name];
  if (value === undefined) throw new MissingVariable(name);
  return value;
}

export function fillString(text: string, vars: Readonly<Record<string, string>>, encode = false): string {
  return text.replace(TEMPLATE, (_, name: string) => {
    const value = lookup(vars, name);
    // `.` and `..` stay dot segments however they are escaped (a URL reads `%2E` as `.`): an id
    // `..` sent the step's PUT, PATCH and DELETE to the base URL itself.
    if (encode && (value === '.' || value === '..')) {
      throw new MissingVariable(name, `which is "${value}", an id no URL path can name`);
    }
    return encode ? encodeURIComponent(value) : value;
  });
}

export function fillJson(value: Json, vars: Readonly<Record<string, string>>): Json {
  if (typeof value === 'string') return fillString(value, vars);
  if (Array.isArray(value)) return value.map((item) => fillJson(item, vars));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) out[fillString(key, vars)] = fillJson(item, vars);
    return out;
  }
  return value;
}

/**
 * Path and query, encoded: variables in the path are URL-encoded as segments; each query value is
 * filled, then encoded whole with `%20` for spaces (some servers read `+` literally in queries).
 */
export function buildPath(
  path: string,
  query: Readonly<Record<string, string>> | undefined,
  vars: Readonly<Record<string, string>>,
): string {
  const filled = fillString(path, vars, true);
  if (!query) return filled;
  const parts = Object.entries(query).map(
    ([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(fillString(value, vars))}`,
  );
  return parts.length === 0 ? filled : `${filled}?${parts.join('&')}`;
}
