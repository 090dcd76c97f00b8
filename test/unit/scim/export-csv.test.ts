import { describe, expect, it } from 'vitest';
import { coreSchemaRegistry } from '@shared/scim/registry';
import { csvColumns, csvField, csvHeader, csvRow } from '../../../src-main/scim/export-csv';

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

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx'])('defuses a spreadsheet formula: %j', (text) => {
    expect(csvField(text).replace(/^"|"$/g, '')).toMatch(/^'/);
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

  it('takes the primary element of a multi-valued attribute, else the first', () => {
    const users = coreSchemaRegistry().resource('User')!;
    const columns = csvColumns(users);
    const emails = columns.findIndex((c) => c.header === 'emails');
    const cell = (resource: Record<string, unknown>) => csvRow(columns, resource).trimEnd().split(',')[emails];
    expect(cell({ emails: [{ value: 'a' }, { value: 'b', primary: true }] })).toBe('b');
    expect(cell({ emails: [{ value: 'a' }, { value: 'b' }] })).toBe('a');
    expect(cell({})).toBe('');
    expect(csvHeader(columns).endsWith('\r\n')).toBe(true);
  });
});
