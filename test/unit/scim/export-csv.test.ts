import { describe, expect, it } from 'vitest';
import { coreSchemaRegistry } from '@shared/scim/registry';
import { csvColumns, csvField, csvHeader, csvRow, projectedColumns } from '../../../src-main/scim/export-csv';
import { compileProjection } from '../../../src-main/scim/projection';

describe('CSV export', () => {
  it('quotes per RFC 4180', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(undefined)).toBe('');
    expect(csvField(null)).toBe('');
    expect(csvField(true)).toBe('true');
    expect(csvField(42)).toBe('42');
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '  =1+1', '\u00a0=1+1', '\u2003=1+1', '\u2009\u3000+1', '\uff1d1+1'])(
    'defuses a spreadsheet formula: %j',
    (text) => {
      expect(csvField(text).replace(/^"|"$/g, '')).toBe(`'${text}`);
    },
  );

  it('quotes a semicolon, which splits cells where it is the list separator, and defuses each line', () => {
    expect(csvField('a;=1+1')).toBe('"a;=1+1"');
    expect(csvField('ok\n=HYPERLINK("x")\n  @x')).toBe(`"ok\n'=HYPERLINK(""x"")\n'  @x"`);
    expect(csvField('ok\r=1+1')).toBe(`"ok\r'=1+1"`);
    // A CR starts a formula and ends a line: both are defused.
    expect(csvField('\r=1+1')).toBe(`"'\r'=1+1"`);
    expect(csvField('a\n\r=b')).toBe(`"a\n'\r'=b"`);
  });

  it('leaves numbers alone even when negative', () => {
    expect(csvField(-5)).toBe('-5');
  });

  it('has a column per singular attribute, sub-attributes of singular complex ones, none for password', () => {
    const users = coreSchemaRegistry().resource('User')!;
    const headers = csvColumns(users).map((c) => c.header);
    expect(headers).toEqual(expect.arrayContaining(['id', 'userName', 'name.givenName', 'active', 'emails']));
    expect(headers).not.toContain('password');
    expect(headers).not.toContain('name');
  });

  it('holds every value of a multi-valued attribute, the primary first, one per line', () => {
    const users = coreSchemaRegistry().resource('User')!;
    const columns = csvColumns(users);
    const read = (header: string, resource: Record<string, unknown>) =>
      columns.find((c) => c.header === header)!.read(resource);
    expect(read('emails', { emails: [{ value: 'a' }, { value: 'b', primary: true }, { value: 'c' }] })).toBe('b\na\nc');
    expect(read('emails', { emails: [{ value: 'a' }, { value: 'b' }] })).toBe('a\nb');
    expect(read('emails', {})).toBeUndefined();
    // Addresses have no value: their formatted text, else their parts.
    expect(
      read('addresses', {
        addresses: [
          { locality: 'Zürich', country: 'CH', type: 'work' },
          { formatted: '1 Main St, Springfield', primary: true },
        ],
      }),
    ).toBe('1 Main St, Springfield\nZürich, CH');
    const groups = coreSchemaRegistry().resource('Group')!;
    const members = csvColumns(groups).find((c) => c.header === 'members')!;
    expect(members.read({ members: [{ value: 'u1', display: 'Ada' }, { value: 'u2' }] })).toBe('u1\nu2');
    const row = csvRow(columns, { id: 'x', emails: [{ value: 'a@x' }, { value: 'b@x' }] });
    expect(row).toContain('"a@x\nb@x"');
    expect(csvHeader(columns).endsWith('\r\n')).toBe(true);
  });

  it('keeps only the columns the projection keeps', () => {
    const users = coreSchemaRegistry().resource('User')!;
    const headers = (request: Parameters<typeof compileProjection>[1]) =>
      projectedColumns(csvColumns(users), users, compileProjection(users, request)).map((c) => c.header);
    expect(headers({ attributes: 'userName,emails,name.givenName' })).toEqual([
      'id',
      'userName',
      'name.givenName',
      'emails',
    ]);
    const withoutEmails = headers({ excludedAttributes: 'emails,name' });
    expect(withoutEmails).toContain('userName');
    expect(withoutEmails).not.toContain('emails');
    expect(withoutEmails.some((h) => h.startsWith('name.'))).toBe(false);
    expect(headers({})).toEqual(csvColumns(users).map((c) => c.header));
  });
});
