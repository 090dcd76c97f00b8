import { ScimError } from './errors';
import { DEFAULT_MAX_RESULTS } from './service-provider-config';

/** RFC 7644 §3.4.2.4; values arrive as query-string text or as JSON numbers (`.search`). */
export interface PageRequest {
  startIndex?: number | string | undefined;
  count?: number | string | undefined;
}

export interface Page {
  /** 1-based. */
  readonly startIndex: number;
  readonly count: number;
}

/**
 * DESIGN.md §3: startIndex < 1 is read as 1; a negative count is 0; count 0 asks for totalResults
 * only; count is capped silently at `maxResults` (ServiceProviderConfig `filter.maxResults`), which
 * is also the page size when count is absent. Text that is not an integer is 400 invalidValue.
 * Integers beyond ±Number.MAX_SAFE_INTEGER are read as that bound (see `toInteger`).
 */
export function normalizePage(request: PageRequest, maxResults: number = DEFAULT_MAX_RESULTS): Page {
  const start = toInteger('startIndex', request.startIndex);
  const count = toInteger('count', request.count);
  return {
    startIndex: start === undefined || start < 1 ? 1 : start,
    count: count === undefined ? maxResults : Math.min(Math.max(count, 0), maxResults),
  };
}

/**
 * An integer within ±Number.MAX_SAFE_INTEGER. Larger ones are clamped, not refused: they are
 * integers, only far outside any list, and RFC 7644 §3.4.2.4 answers a startIndex past the results
 * with an empty page, which the bound gives as well. Clamping keeps the startIndex a ListResponse
 * echoes an exact integer (a JSON `1e30` was echoed as `1e+30`, and `1e400` is Infinity).
 */
function toInteger(name: string, value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') {
    // A JSON number past a double's range (`1e400`) parses as ±Infinity: clamped the same way.
    if (Number.isInteger(value) || Math.abs(value) === Infinity)
      return Math.min(Math.max(value, Number.MIN_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  } else {
    const t = value.trim();
    if (t === '') return undefined;
    if (/^[+-]?\d+$/.test(t)) {
      // Leading zeros are not digits of the value: `count=0000000000000000002` is 2. Stripped by
      // hand: a pattern with `0*` before `\d+` backtracked quadratically over a run of zeros that
      // ended in a letter (60,000 of them held the event loop for 3 s).
      const sign = t[0] === '-' || t[0] === '+' ? t[0] : '';
      const significant = t.slice(sign.length).replace(/^0+(?=\d)/, '');
      if (significant.length <= 15) return Number(sign + significant);
      // Beyond 15 digits: clamped rather than read with lost precision.
      return sign === '-' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
    }
  }
  const shown = String(value);
  // Shown short: a .search body may give a megabyte of it, which the error would have echoed whole.
  const quoted = shown.length > 40 ? `${shown.slice(0, 40)}…` : shown;
  throw ScimError.badRequest('invalidValue', `${name} must be an integer, not "${quoted}".`);
}

/** The slice of an ordered list that a page covers. */
export function pageOf<T>(items: readonly T[], page: Page): T[] {
  return items.slice(page.startIndex - 1, page.startIndex - 1 + page.count);
}
