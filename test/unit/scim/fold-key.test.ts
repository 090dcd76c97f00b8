import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldKey } from '@shared/scim/index-keys';

const fold = (value: string) => value.normalize('NFC').toLowerCase().replaceAll('ς', 'σ');

describe('foldKey', () => {
  it('folds short and long strings alike, however often it is asked (the long ones are cached)', () => {
    const text = fc.string({ unit: 'grapheme-composite', minLength: 0, maxLength: 600 });
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 8 }), (values) => {
        for (const value of [...values, ...values]) expect(foldKey(value)).toBe(fold(value));
      }),
    );
  });

  it('folds a Greek final sigma like any other, so a name starts with its own beginning', () => {
    expect(foldKey('ΟΔΟΣ')).toBe(foldKey('οδοσ'));
    expect(foldKey('ΚΟΣΜΟΣ').startsWith(foldKey('ΚΟΣ'))).toBe(true);
    expect(foldKey(`ΚΟΣΜΟΣ${'Σ'.repeat(300)}`)).toBe(`κοσμοσ${'σ'.repeat(300)}`);
  });

  it('stays right past the size at which its cache starts over', () => {
    const long = (i: number) => `É${'a'.repeat(300_000)}${i}`;
    // 60 strings of 300,000 characters and their folds are over the cache's 8 M characters.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 60; i++) expect(foldKey(long(i))).toBe(fold(long(i)));
    }
  });
});
