import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesAsText, latin1AsSent } from '../../../src-main/http/bytes-as-text';

const strict = new TextDecoder('utf-8', { fatal: true });

describe('a body that is not UTF-8, as the request log shows it', () => {
  it('shows each byte that belongs to no UTF-8 sequence as \\xNN, and the rest as text', () => {
    expect(bytesAsText(Buffer.from('{"userName":"Jos\xe9"}', 'latin1'))).toBe('{"userName":"Jos\\xE9"}');
    expect(bytesAsText(Uint8Array.from([0x1f, 0x8b, 0x08, 0x41]))).toBe('\x1f\\x8B\x08A');
    // A sequence cut short, an overlong form, a surrogate, past U+10FFFF.
    expect(bytesAsText(Uint8Array.from([0xe2, 0x82, 0x41]))).toBe('\\xE2\\x82A');
    expect(bytesAsText(Uint8Array.from([0xc0, 0xaf]))).toBe('\\xC0\\xAF');
    expect(bytesAsText(Uint8Array.from([0xed, 0xa0, 0x80]))).toBe('\\xED\\xA0\\x80');
    expect(bytesAsText(Uint8Array.from([0xf4, 0x90, 0x80, 0x80]))).toBe('\\xF4\\x90\\x80\\x80');
    // A byte-order mark is kept where it was, at the start and after a stray byte alike.
    expect(bytesAsText(Uint8Array.from([0xef, 0xbb, 0xbf, 0x41, 0xff, 0xef, 0xbb, 0xbf, 0x42]))).toBe(
      '\uFEFFA\\xFF\uFEFFB',
    );
  });

  it('leaves valid UTF-8 exactly as a decoder reads it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const bytes = new TextEncoder().encode(text);
        expect(bytesAsText(bytes)).toBe(strict.decode(bytes));
      }),
    );
  });

  it('loses nothing: the bytes can be read back from what is shown', () => {
    const readBack = (shown: string) => {
      const out: number[] = [];
      for (const part of shown.split(/(\\x[0-9A-F]{2})/)) {
        if (/^\\x[0-9A-F]{2}$/.test(part)) out.push(parseInt(part.slice(2), 16));
        else out.push(...new TextEncoder().encode(part));
      }
      return Uint8Array.from(out);
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        // A client's own text "\x41" would read back as a byte: not what this property is about.
        fc.pre(!Buffer.from(bytes).includes('\\x'));
        expect(readBack(bytesAsText(bytes))).toEqual(bytes);
      }),
    );
  });

  it('reads text Node took for Latin-1 again as the UTF-8 it was sent as', () => {
    expect(latin1AsSent(Buffer.from('José Müller', 'utf8').toString('latin1'))).toBe('José Müller');
    expect(latin1AsSent(Buffer.from([0x4a, 0xe9]).toString('latin1'))).toBe('J\\xE9');
    const ascii = 'Bearer abc';
    expect(latin1AsSent(ascii)).toBe(ascii);
  });
});
