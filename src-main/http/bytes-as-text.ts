/**
 * A request body that is not valid UTF-8, as text the request log can keep: the valid runs
 * decoded, and each byte that belongs to no valid sequence written as `\xNN`. Decoding it the
 * usual way would put U+FFFD in place of what the client sent, which hides what was wrong (a
 * Latin-1 `é` is `\xE9`, a gzip body starts `\x1F\x8B`). Written here because TextDecoder can
 * only replace or refuse, and no small library shows the bytes instead.
 */
export function bytesAsText(bytes: Uint8Array): string {
  const parts: string[] = [];
  // ignoreBOM: a byte-order mark is kept, as sent, where a run starts (even after a stray byte).
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let runStart = 0;
  let at = 0;
  while (at < bytes.length) {
    const length = validSequenceLength(bytes, at);
    if (length > 0) {
      at += length;
      continue;
    }
    if (at > runStart) parts.push(decoder.decode(bytes.subarray(runStart, at)));
    parts.push(`\\x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')}`);
    at += 1;
    runStart = at;
  }
  if (runStart < bytes.length) parts.push(decoder.decode(bytes.subarray(runStart)));
  return parts.join('');
}

/** The length of the well-formed UTF-8 sequence at `at` (RFC 3629 §4), or 0 when there is none. */
function validSequenceLength(bytes: Uint8Array, at: number): number {
  const first = bytes[at]!;
  if (first < 0x80) return 1;
  const inRange = (offset: number, low = 0x80, high = 0xbf) => {
    const byte = bytes[at + offset];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (first >= 0xc2 && first <= 0xdf) return inRange(1) ? 2 : 0;
  if (first >= 0xe0 && first <= 0xef) {
    const [low, high] = first === 0xe0 ? [0xa0, 0xbf] : first === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return inRange(1, low, high) && inRange(2) ? 3 : 0;
  }
  if (first >= 0xf0 && first <= 0xf4) {
    const [low, high] = first === 0xf0 ? [0x90, 0xbf] : first === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return inRange(1, low, high) && inRange(2) && inRange(3) ? 4 : 0;
  }
  return 0;
}

/**
 * Text Node read as Latin-1 (header values, a request line the parser refused), read again as the
 * UTF-8 it usually is: a UTF-8 `José` arrives as `JosÃ©`. Bytes that are not UTF-8 are shown as
 * `\xNN`. ASCII, the usual case, is returned as it is, without a copy.
 */
export function latin1AsSent(text: string): string {
  // eslint-disable-next-line no-control-regex -- the test is for characters past ASCII
  return /[^\x00-\x7f]/.test(text) ? bytesAsText(Buffer.from(text, 'latin1')) : text;
}
