import type { Context } from 'koa';

/**
 * How many lines of a header (name in lower case) the request has. Node's `headers` keeps the first
 * of a header that is not a list, or joins the lines of one that is: only the raw headers tell.
 */
export function headerLines(ctx: Context, name: string): number {
  const raw = ctx.req.rawHeaders;
  let lines = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === name) lines++;
  return lines;
}
