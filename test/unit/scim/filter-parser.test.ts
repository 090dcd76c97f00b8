import { describe, expect, it } from 'vitest';
import { parseAttributePath, parseFilter, parsePatchPath } from '../../../src-main/scim/filter/parser';
import { printFilter, printPatchPath } from '../../../src-main/scim/filter/printer';
import { ScimError } from '../../../src-main/scim/errors';
import { syntaxErrorOf } from './helpers';

describe('filter parser: grammar (RFC 7644 §3.4.2.2 Figure 1)', () => {
  it('binds and tighter than or, both left-associative', () => {
    expect(parseFilter('a pr or b pr and c pr')).toEqual({
      kind: 'or',
      left: { kind: 'present', path: { name: 'a' } },
      right: {
        kind: 'and',
        left: { kind: 'present', path: { name: 'b' } },
        right: { kind: 'present', path: { name: 'c' } },
      },
    });
    expect(parseFilter('a pr and b pr and c pr')).toEqual({
      kind: 'and',
      left: {
        kind: 'and',
        left: { kind: 'present', path: { name: 'a' } },
        right: { kind: 'present', path: { name: 'b' } },
      },
      right: { kind: 'present', path: { name: 'c' } },
    });
  });

  it('lets parentheses override precedence', () => {
    const ast = parseFilter('(a pr or b pr) and c pr');
    expect(ast.kind).toBe('and');
    expect(printFilter(ast)).toBe('(a pr or b pr) and c pr');
  });

  it('reads operators, and, or, not and literals case-insensitively', () => {
    expect(parseFilter('a EQ TRUE AND NOT (b Pr) Or c lE NULL')).toEqual(
      parseFilter('a eq true and not (b pr) or c le null'),
    );
  });

  it('keeps attribute names as written (case rules apply at evaluation)', () => {
    expect(parseFilter('UserName eq "x"')).toEqual({
      kind: 'compare',
      op: 'eq',
      path: { name: 'UserName' },
      value: 'x',
    });
  });

  it('splits a URN prefix at the last colon and a sub-attribute at the dot', () => {
    expect(parseFilter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"')).toEqual({
      kind: 'compare',
      op: 'eq',
      path: { uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', name: 'manager', sub: 'value' },
      value: 'm1',
    });
    expect(parseFilter('members.$ref pr')).toEqual({ kind: 'present', path: { name: 'members', sub: '$ref' } });
  });

  it('parses value paths, and the `.sub op value` tail as one element matching both', () => {
    expect(parseFilter('emails[type eq "work"]')).toEqual({
      kind: 'valuePath',
      path: { name: 'emails' },
      filter: { kind: 'compare', op: 'eq', path: { name: 'type' }, value: 'work' },
    });
    expect(parseFilter('emails[type eq "work"].value eq "x"')).toEqual(
      parseFilter('emails[type eq "work" and value eq "x"]'),
    );
  });

  it('decodes JSON string escapes', () => {
    const ast = parseFilter('a eq "q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9\\uD83D\\uDE00"');
    expect(ast).toMatchObject({ value: 'q" b\\ s/ \b\f\n\r\t é😀' });
  });

  it('reads JSON numbers, booleans and null', () => {
    expect(parseFilter('a eq -1.5e3')).toMatchObject({ value: -1500 });
    expect(parseFilter('a eq 0')).toMatchObject({ value: 0 });
    expect(parseFilter('a eq 12.25')).toMatchObject({ value: 12.25 });
    expect(parseFilter('a eq false')).toMatchObject({ value: false });
    expect(parseFilter('a eq null')).toMatchObject({ value: null });
  });

  it('accepts extra whitespace, tabs and line breaks between tokens', () => {
    expect(parseFilter('  a\teq\n"x"  and\r\nb pr ')).toEqual(parseFilter('a eq "x" and b pr'));
  });

  it('treats an attribute literally named "not" as an attribute when an operator follows', () => {
    expect(parseFilter('not eq "x"')).toEqual({ kind: 'compare', op: 'eq', path: { name: 'not' }, value: 'x' });
  });
});

describe('filter parser: errors are invalidFilter with a position and a reason', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /expected an expression/],
    ['userName', 8, /expected an operator/],
    ['userName eq', 11, /expected a value/],
    ['userName eq bjensen', 12, /expected a value.*quoted string/],
    ['userName zz "a"', 9, /expected an operator.*'zz'/],
    ['userName eq "abc', 12, /unterminated string/],
    ['userName eq "a\\x"', 14, /invalid escape/],
    ['userName eq "\\u12G4"', 13, /\\u escape/],
    ['a eq "tab\there"', 9, /control character/],
    ['(a pr', 5, /expected '\)'.*position 1/],
    ['a pr)', 4, /unexpected '\)'/],
    ['emails[type eq "work"', 21, /expected '\]'/],
    ['emails[type eq "work" and x[y pr]]', 27, /cannot be nested/],
    ['name.givenName[x pr]', 14, /not a sub-attribute/],
    ['a eq 01', 5, /malformed number/],
    ['a eq 1.', 5, /malformed number/],
    ['a eq -', 5, /malformed number/],
    ['a eq 1e999', 5, /out of range/],
    ['a pr b', 5, /unexpected 'b'/],
    ['a.b.c pr', 0, /not an attribute path/],
    ['1abc pr', 0, /not an attribute path/],
    ['not a eq "x"', 0, /'not' must be followed/],
    ['foo:bar eq "x"', 0, /schema prefix must be a URN/],
    ['a eq "x" and', 12, /expected an expression, found the end/],
    ["a eq 'x'", 5, /expected a value/],
  ];
  it.each(cases)('%j fails at offset %i', (text, offset, reason) => {
    const err = syntaxErrorOf(() => parseFilter(text));
    expect(err).toBeInstanceOf(ScimError);
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidFilter');
    expect(err.position).toBe(offset);
    expect(err.reason).toMatch(reason);
    expect(err.message).toContain(`position ${offset + 1}`);
    expect(err.toBody()).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });
});

describe('filter parser: a password compared unquoted', () => {
  it.each([
    ['password eq Hunter2Secret', /hunter2/i],
    ["password eq 'Qvn14Hid14Zk'", /Qvn1/],
    ['PASSWORD.value eq Hunter2Secret', /hunter2/i],
    ['urn:ietf:params:scim:schemas:core:2.0:User:password ne Hunter2Secret', /hunter2/i],
    ['password eq 9876Tr0ub4dor', /9876/],
  ])('is not repeated in the message about %j, which says what is wrong', (text, secret) => {
    const err = syntaxErrorOf(() => parseFilter(text));
    expect(err.reason).toMatch(/(expected a value|malformed number) .*not repeated here: it may be a password/);
    expect(JSON.stringify(err.toBody())).not.toMatch(secret);
  });

  it('repeats another unquoted value as it was written', () => {
    expect(syntaxErrorOf(() => parseFilter('title eq BJensen')).reason).toContain("found 'BJensen'");
  });
});

describe('filter parser: hard limits', () => {
  it('refuses text longer than maxLength before reading it', () => {
    const err = syntaxErrorOf(() => parseFilter(`a eq "${'x'.repeat(9000)}"`));
    expect(err.reason).toMatch(/longer than 8192/);
  });

  it('refuses nesting deeper than maxDepth, without exhausting the stack', () => {
    expect(() => parseFilter(`${'('.repeat(16)}a pr${')'.repeat(16)}`)).not.toThrow();
    const err = syntaxErrorOf(() => parseFilter(`${'('.repeat(17)}a pr${')'.repeat(17)}`));
    expect(err.reason).toMatch(/nested deeper than 16/);
    expect(err.position).toBe(16);
    const huge = syntaxErrorOf(() =>
      parseFilter(`${'not ('.repeat(1000)}a pr${')'.repeat(1000)}`, { maxLength: 1e6, maxDepth: 16, maxTerms: 512 }),
    );
    expect(huge.reason).toMatch(/nested deeper/);
  });

  it('refuses more comparisons than maxTerms', () => {
    const text = Array.from({ length: 513 }, (_, i) => `id eq "${i}"`).join(' or ');
    expect(syntaxErrorOf(() => parseFilter(text, { maxLength: 1e6, maxDepth: 16, maxTerms: 512 })).reason).toMatch(
      /more than 512/,
    );
  });
});

describe('PATCH path parser (RFC 7644 §3.5.2 PATH)', () => {
  it.each([
    ['userName', { path: { name: 'userName' } }],
    ['name.givenName', { path: { name: 'name', sub: 'givenName' } }],
    [
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value',
      { path: { uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', name: 'manager', sub: 'value' } },
    ],
    [
      'members[value eq "2819c223"]',
      { path: { name: 'members' }, filter: { kind: 'compare', op: 'eq', path: { name: 'value' }, value: '2819c223' } },
    ],
    [
      'emails[type eq "work"].value',
      {
        path: { name: 'emails', sub: 'value' },
        filter: { kind: 'compare', op: 'eq', path: { name: 'type' }, value: 'work' },
      },
    ],
  ])('%s', (text, expected) => {
    const parsed = parsePatchPath(text);
    expect(parsed).toEqual(expected);
    expect(parsePatchPath(printPatchPath(parsed))).toEqual(parsed);
  });

  it('reports malformed paths as invalidPath with a position', () => {
    for (const [text, offset] of [
      ['emails[type eq "work"', 21],
      ['emails[type eq "work"].', 23],
      ['emails[type eq "work"] x', 23],
      ['', 0],
      ['name.givenName[x pr]', 14],
    ] as const) {
      const err = syntaxErrorOf(() => parsePatchPath(text));
      expect(err.scimType).toBe('invalidPath');
      expect(err.position).toBe(offset);
    }
  });

  it('parses a bare attribute path for sortBy/attributes, refusing filters (invalidValue)', () => {
    expect(parseAttributePath('name.familyName')).toEqual({ name: 'name', sub: 'familyName' });
    expect(syntaxErrorOf(() => parseAttributePath('emails[type eq "work"]')).scimType).toBe('invalidValue');
  });
});
