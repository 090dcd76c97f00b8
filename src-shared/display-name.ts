import { z } from 'zod';

/**
 * Characters a name shown in the console, the CLI and the request log may not hold:
 * - C0 and C1 controls, and the line and paragraph separators U+2028/U+2029: a newline or an
 *   escape sequence forges lines in a terminal or a log view;
 * - the bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E/U+200F,
 *   U+202A–U+202E, U+2066–U+2069), with which a name reads differently from what it is ("Trojan
 *   Source", CVE-2021-42574);
 * - characters that show as nothing, which make two names that look alike differ: the soft hyphen
 *   U+00AD, the combining grapheme joiner U+034F, the Hangul fillers (U+115F, U+1160, U+3164,
 *   U+FFA0), U+17B4/U+17B5, the Mongolian vowel separator U+180E, U+200B, the word joiner and
 *   invisible operators U+2060–U+2064, the deprecated format controls U+206A–U+206F, and U+FEFF.
 * The zero-width joiners U+200C/U+200D and the variation selectors stay: emoji sequences and some
 * scripts need them.
 */
function unshowable(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x00ad ||
    code === 0x034f ||
    code === 0x061c ||
    code === 0x115f ||
    code === 0x1160 ||
    code === 0x17b4 ||
    code === 0x17b5 ||
    code === 0x180e ||
    code === 0x200b ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x2064) ||
    (code >= 0x2066 && code <= 0x206f) ||
    code === 0x3164 ||
    code === 0xfeff ||
    code === 0xffa0
  );
}

/** The first unshowable character's code point and its 0-based index, if there is one. */
function firstUnshowable(name: string): { code: number; index: number } | undefined {
  for (let index = 0; index < name.length; index++) {
    const code = name.charCodeAt(index);
    if (unshowable(code)) return { code, index };
  }
  return undefined;
}

/**
 * A trimmed, non-empty name of at most 200 characters that shows as what it is. It is kept in NFC,
 * so two names that look the same are the same text ("Café" typed with a combining accent or
 * with é), and a lone surrogate half, which no screen can show, becomes U+FFFD, as it would show.
 */
export function displayName(what: 'tenant' | 'token'): z.ZodType<string, string> {
  // Normalised first, so the length and character checks see the name as it will be kept.
  return (
    z
      .string()
      .transform((name) => name.replace(LONE_SURROGATE, '\uFFFD').normalize('NFC'))
      .pipe(
        z
          .string()
          .trim()
          .min(1, `A ${what} needs a name.`)
          .max(200)
          .superRefine((name, ctx) => {
            const found = firstUnshowable(name);
            if (found) {
              ctx.addIssue({
                code: 'custom',
                message:
                  `A ${what} name may not contain control characters, invisible characters or bidirectional controls ` +
                  `(U+${found.code.toString(16).toUpperCase().padStart(4, '0')} at position ${found.index + 1}).`,
              });
            }
          }),
      )
      // JSON Schema (the OpenAPI document) reads a request as it comes, the transform's input: said
      // here, or a client generated from it would take names the server always refuses.
      .meta({
        minLength: 1,
        maxLength: 200,
        description:
          `The ${what}'s name: 1 to 200 characters once trimmed, without control characters, invisible ` +
          'characters or bidirectional controls.',
      })
  );
}

/** Half of a surrogate pair without its other half (String.prototype.toWellFormed is ES2024). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
