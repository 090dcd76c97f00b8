import { describe, expect, it } from 'vitest';
import { displayName } from '@shared/display-name';

const tenantName = displayName('tenant');

describe('tenant and token names show as what they are', () => {
  it.each([
    ['an emoji family (zero-width joiners between emoji)', '👨\u200D👩\u200D👧'],
    ['Persian with a zero-width non-joiner', 'می\u200Cخواهم'],
    ['Hindi with a zero-width joiner', 'क्\u200Dष'],
    ['a keycap (a variation selector after a digit)', '1\uFE0F\u20E3 team'],
    ['a red heart (a variation selector after a symbol)', '❤\uFE0F'],
    ['an ideographic variation sequence', '葛\u{E0100}飾'],
    ['the rainbow flag', '🏳\uFE0F\u200D🌈'],
    ["Scotland's flag (a tag sequence)", 'Glasgow 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}'],
    ['the Arabic number sign, a visible format character', 'Invoice \u0600١٢٣'],
    ['a Malayalam chillu written with a joiner at the end of a word', 'അവന്\u200D Corp'],
    ['a skin-toned emoji in a ZWJ sequence', '👩🏽\u200D💻'],
    ['a keycap of #', '#\uFE0F\u20E3'],
  ])('takes %s', (_, name) => {
    expect(tenantName.safeParse(name)).toMatchObject({ success: true, data: name });
  });

  it.each([
    ['a zero-width joiner between Latin letters', 'Ac\u200Dme', 'U+200D at position 3'],
    ['a zero-width non-joiner at the end', 'Acme\u200C', 'U+200C at position 5'],
    ['a variation selector after a Latin letter', 'Acme\uFE0F', 'U+FE0F at position 5'],
    ['an ideographic variation selector after a Latin letter', 'Acme\u{E0100}', 'U+E0100 at position 5'],
    ['a tag outside a flag', 'Acme\u{E0041}', 'U+E0041 at position 5'],
    ['a zero-width joiner between Cyrillic letters', 'Мос\u200Dква', 'U+200D at position 4'],
    ['a zero-width joiner between Han ideographs', '東\u200D京', 'U+200D at position 2'],
    ['a variation selector after a space', 'Acme \uFE0FCorp', 'U+FE0F at position 6'],
    ['VS16 after a digit that is no keycap', 'Acme 1\uFE0F', 'U+FE0F at position 7'],
    ['an interlinear annotation', 'Acme\uFFF9', 'U+FFF9 at position 5'],
    ['the blank Braille pattern', 'Acme\u2800', 'U+2800 at position 5'],
    ['a right-to-left override', 'Acme \u202Efdp.exe', 'U+202E at position 6'],
  ])('refuses %s, naming it', (_, name, where) => {
    const result = tenantName.safeParse(name);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(where);
  });
});
