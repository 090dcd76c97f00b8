import { z } from 'zod';

/**
 * Characters a name shown in the console, the CLI and the request log may not hold:
 * - controls (category Cc) and the line and paragraph separators U+2028/U+2029: a newline or an
 *   escape sequence forges lines in a terminal or a log view;
 * - format characters (category Cf), among them the bidirectional marks, embeddings, overrides
 *   and isolates, with which a name reads differently from what it is ("Trojan Source",
 *   CVE-2021-42574), and the characters that show as nothing (U+200B, U+2060, U+FEFF, the tags
 *   U+E0001–U+E007F, the interlinear annotations U+FFF9–U+FFFB, the shorthand format controls
 *   U+1BCA0–U+1BCA3), which make two names that look alike differ. A list of them by hand missed
 *   the last three groups, so "Acme" could be made twice;
 * - other characters that show as nothing: the combining grapheme joiner U+034F, the Hangul
 *   fillers (U+115F, U+1160, U+3164, U+FFA0), U+17B4/U+17B5 and the blank Braille pattern U+2800.
 * Some format characters are visible and stay: the prepended concatenation marks (the Arabic
 * number sign U+0600 and its kin), which show as a sign over the digits after them. The joiners
 * and variation selectors stay only where they change what shows, and are refused elsewhere,
 * where `Ac\u200Dme`, `Мос\u200Dква` or `Acme \uFE0FCorp` looked like the name without them:
 * - a zero-width non-joiner after a letter or mark of a script that joins its letters (Arabic,
 *   the Indic scripts…: Persian `می\u200Cخواهم`);
 * - a zero-width joiner there too (a Hindi conjunct, a Malayalam chillu at the end of a word), or
 *   after an emoji, an emoji modifier or VS16 (an emoji family, the rainbow flag);
 * - VS15/VS16 after an emoji, and after an ASCII one (`1`, `#`, `*`) only in a keycap (U+20E3);
 * - VS1–VS14 after a character of no Latin, Greek or Cyrillic letter and no space (math symbols,
 *   CJK compatibility forms, Myanmar); the ideographic variation selectors after a Han ideograph.
 * Tags stay inside an emoji tag sequence (a black flag, tags, the cancel tag: the flag of
 * Scotland), their only use.
 */
const FORMAT_OR_CONTROL = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
const BLANK = new Set([0x034f, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x2800, 0x3164, 0xffa0]);
// Unicode's Prepended_Concatenation_Mark, which JavaScript's \p{} does not know.
const VISIBLE_FORMAT = /[\u0600-\u0605\u06DD\u070F\u0890\u0891\u08E2\u{110BD}\u{110CD}]/u;
const ZWNJ = 0x200c;
const ZWJ = 0x200d;
const KEYCAP = 0x20e3;
const JOINING_SCRIPT =
  /[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Gurmukhi}\p{Script=Gujarati}\p{Script=Oriya}\p{Script=Tamil}\p{Script=Telugu}\p{Script=Kannada}\p{Script=Malayalam}\p{Script=Sinhala}\p{Script=Myanmar}\p{Script=Khmer}\p{Script=Tibetan}]/u;
const EMOJI_PART = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F]/u;
const EMOJI = /\p{Emoji}/u;
const ALPHABETIC_OR_SPACE = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\s]/u;
const HAN = /\p{Script=Han}/u;

/** Whether a joiner or variation selector changes what `before` (the character it follows) shows as. */
function modifies(code: number, before: string | undefined, after: number | undefined): boolean {
  if (before === undefined) return false;
  const ascii = before.codePointAt(0)! < 0x80;
  if (code === ZWNJ) return JOINING_SCRIPT.test(before);
  if (code === ZWJ) return JOINING_SCRIPT.test(before) || EMOJI_PART.test(before);
  if (code === 0xfe0e || code === 0xfe0f) return EMOJI.test(before) && (!ascii || after === KEYCAP);
  if (code >= 0xfe00 && code <= 0xfe0d) return !ascii && !ALPHABETIC_OR_SPACE.test(before);
  if (code >= 0xe0100 && code <= 0xe01ef) return HAN.test(before);
  return false;
}

const isJoinerOrSelector = (code: number) =>
  code === ZWNJ || code === ZWJ || (code >= 0xfe00 && code <= 0xfe0f) || (code >= 0xe0100 && code <= 0xe01ef);

/** Whether a character shows as nothing where it is (`before`: the character before it; `after`: the code point after). */
function unshowable(code: number, before: string | undefined, after: number | undefined): boolean {
  if (BLANK.has(code)) return true;
  if (isJoinerOrSelector(code)) return !modifies(code, before, after);
  const char = String.fromCodePoint(code);
  return FORMAT_OR_CONTROL.test(char) && !VISIBLE_FORMAT.test(char);
}

const BLACK_FLAG = 0x1f3f4;
const CANCEL_TAG = 0xe007f;
const isTag = (code: number | undefined) => code !== undefined && code >= 0xe0020 && code < CANCEL_TAG;

/** Where an emoji tag sequence that starts at `at` (its black flag) ends, if one does. */
function tagSequenceEnd(chars: readonly string[], at: number): number | undefined {
  if (chars[at]?.codePointAt(0) !== BLACK_FLAG) return undefined;
  let end = at + 1;
  while (isTag(chars[end]?.codePointAt(0))) end++;
  return end > at + 1 && chars[end]?.codePointAt(0) === CANCEL_TAG ? end + 1 : undefined;
}

/** The first unshowable character's code point and its 0-based position (in characters), if there is one. */
function firstUnshowable(name: string): { code: number; index: number } | undefined {
  const chars = [...name];
  for (let index = 0; index < chars.length; index++) {
    const sequenceEnd = tagSequenceEnd(chars, index);
    if (sequenceEnd !== undefined) {
      index = sequenceEnd - 1;
      continue;
    }
    const code = chars[index]!.codePointAt(0)!;
    if (unshowable(code, chars[index - 1], chars[index + 1]?.codePointAt(0))) return { code, index };
  }
  return undefined;
}

/**
 * A trimmed, non-empty name of at most 200 characters that shows as what it is. It is kept in NFC,
 * so two names that look the same are the same text ("Café" typed with a combining accent or
 * with é). Half of a surrogate pair, which no screen can show, is refused, as in a SCIM userName:
 * kept as U+FFFD, two different halves made one name, and the second was told it already existed.
 */
export function displayName(what: 'tenant' | 'token'): z.ZodType<string, string> {
  // Normalised first, so the length and character checks see the name as it will be kept.
  return (
    z
      .string()
      .transform((name) => name.normalize('NFC'))
      .pipe(
        z
          .string()
          .trim()
          .min(1, `A ${what} needs a name.`)
          .max(200)
          .superRefine((name, ctx) => {
            const half = LONE_SURROGATE.exec(name);
            if (half) {
              ctx.addIssue({
                code: 'custom',
                message:
                  `A ${what} name may not contain half of a surrogate pair (U+${half[0].charCodeAt(0).toString(16).toUpperCase()} ` +
                  `at position ${[...name.slice(0, half.index)].length + 1}): the text was broken before it was sent.`,
              });
              return;
            }
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
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
