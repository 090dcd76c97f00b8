import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBase64 } from '@shared/scim/base64';

describe('isBase64 (RFC 4648 §4, as RFC 7643 §2.3.6 asks of a binary value)', () => {
  it('takes whatever bytes encode to, wrapped at any width (PEM, MIME) or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 4, max: 80 }), (bytes, width) => {
        const text = Buffer.from(bytes).toString('base64');
        expect(isBase64(text)).toBe(true);
        const breaks = ['\r\n', '\n', '\r'][width % 3] as string;
        const wrapped = text.match(new RegExp(`.{1,${width}}`, 'g'))?.join(breaks) ?? '';
        expect(isBase64(wrapped)).toBe(true);
      }),
    );
  });

  it('refuses text that is not whole groups of four, padding inside, or other characters', () => {
    for (const bad of ['A', 'A=', 'TUl', 'TUlJQ', '====', 'TU==lJ', 'TU lJ', 'TU-_', 'TUlJ\t', 'TUlJ=']) {
      expect(isBase64(bad), bad).toBe(false);
    }
    // Cutting a valid text anywhere but at a group's end makes it invalid.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 60 }), fc.nat(), (bytes, at) => {
        const text = Buffer.from(bytes).toString('base64');
        const cut = at % text.length;
        if (cut % 4 !== 0) expect(isBase64(text.slice(0, cut))).toBe(false);
      }),
    );
  });
});
