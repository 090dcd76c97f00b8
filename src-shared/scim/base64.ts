/**
 * RFC 7643 §2.3.6: a binary value is base64 as RFC 4648 §4 defines it — whole groups of four
 * characters, `=` padding only at the end. Line breaks are let through, as MIME and PEM wrap a
 * certificate at 64 or 76 characters and people paste them so. `"A"` or `"TUl"` decode to nothing
 * a client meant, and used to be stored as given.
 */
export function isBase64(text: string): boolean {
  return BASE64_GROUPS.test(text.replace(LINE_BREAKS, ''));
}

const LINE_BREAKS = /\r\n?|\n/g;
const BASE64_GROUPS = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
