/**
 * Nesting depth of JSON text that is known to parse: `1` for `{}` or `[]`, `0` for a bare value.
 * Counted over the characters (skipping strings) rather than over the parsed value, so it builds
 * nothing: it runs on every request body and every logged body.
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
