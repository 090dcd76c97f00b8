/**
 * Nesting depth of JSON text that is known to parse: `1` for `{}` or `[]`, `0` for a bare value.
 * Counted over the characters (skipping strings) rather than over the parsed value, so it builds
 * nothing.
 */
export function jsonTextDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/**
 * Whether JSON text that is known to parse nests deeper than `limit`. It runs on every request
 * body and every logged body, so it first counts the `{` and `[` characters with `indexOf` (a
 * native search, about twenty times faster than walking the characters in JS): the depth cannot
 * exceed that count. Only text with more openers than the limit (brackets in strings included)
 * is walked.
 */
export function jsonTextDeeperThan(text: string, limit: number): boolean {
  if (countUpTo(text, '{', limit + 1) + countUpTo(text, '[', limit + 1) <= limit) return false;
  return jsonTextDepth(text) > limit;
}

function countUpTo(text: string, char: string, cap: number): number {
  let count = 0;
  for (let i = text.indexOf(char); i !== -1 && count < cap; i = text.indexOf(char, i + 1)) count++;
  return count;
}
