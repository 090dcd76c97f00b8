import { z } from 'zod';

export const MAX_PER_PAGE = 200;

/**
 * A whole number from a query string (text over HTTP, a number over IPC), at least `min`.
 * `z.coerce.number()` read "" as 0 (then "too small"), a repeated parameter as NaN, and `1e2` or
 * `0x10` as numbers: here only digits (with a minus) are read, and anything else is refused saying
 * what it was.
 */
export function queryInt(min: number, max = Number.MAX_SAFE_INTEGER): z.ZodType<number, number | string> {
  // Typed as what it takes (a preprocess alone would read `unknown`, a hole for IPC callers).
  return z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d{1,30}$/.test(value) ? Number(value) : value),
    z
      .number({
        error: (issue) =>
          issue.input === undefined
            ? 'Field required'
            : Array.isArray(issue.input)
              ? 'must be given once'
              : `must be a whole number, not ${JSON.stringify(issue.input)}`,
      })
      // Range first, and alone: -1 is a whole number too small, not "no whole number".
      .min(min, { abort: true, error: (issue) => `must be at least ${min}, not ${JSON.stringify(issue.input)}` })
      .max(max, { abort: true, error: (issue) => `must be at most ${max}, not ${JSON.stringify(issue.input)}` })
      .int({ error: (issue) => `must be a whole number, not ${JSON.stringify(issue.input)}` }),
  ) as unknown as z.ZodType<number, number | string>;
}

/**
 * Page selection on admin lists. Query strings arrive as text over HTTP and as numbers over IPC,
 * so both are coerced; out-of-range values are refused (422) rather than silently clamped, since
 * an admin script that asks for page 0 has a bug worth showing.
 */
export const PageQuery = z.object({
  page: queryInt(1).default(1),
  per_page: queryInt(1, MAX_PER_PAGE).default(50),
});
export type PageQuery = z.infer<typeof PageQuery>;

/** Every admin list answers this shape (DESIGN.md §3). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.number().int().min(0),
    page: z.number().int().min(1),
    per_page: z.number().int().min(1),
  });
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  per_page: number;
}

export function paginate<T>(all: readonly T[], { page, per_page }: PageQuery): Page<T> {
  const start = (page - 1) * per_page;
  return { items: all.slice(start, start + per_page), total: all.length, page, per_page };
}
