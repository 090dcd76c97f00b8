import { describe, expect, it } from 'vitest';
import { adminContract } from '../../../src-shared/contract';
import { COMPAT_FLAG_NAMES } from '../../../src-shared/scim/compat-flags';
import { closestName, namesAt } from '../../../src-main/services/admin-dispatch';

const LOG_QUERY = ['tenant_id', 'errors', 'method', 'status', 'path', 'q', 'since', 'until', 'page', 'per_page'];

describe('closestName: which known parameter an unknown one misspells', () => {
  it.each([
    ['tenantId', 'tenant_id'],
    ['Tenant_ID', 'tenant_id'],
    ['per-page', 'per_page'],
    ['stauts', 'status'],
    ['statuss', 'status'],
    ['metod', 'method'],
    ['per_pag', 'per_page'],
    ['tenant', 'tenant_id'],
    ['tenantName', 'tenant_id'],
    ['status_code', 'status'],
  ])('%s → %s', (unknown, meant) => {
    expect(closestName(unknown, LOG_QUERY)).toBe(meant);
  });

  // A browser's or proxy's own parameters, and words merely near a short name, are not typos.
  it.each(['_', 'name', 'tag', 'age', 'pg', 'date', 'hash', 'nonce', 'colour', 'sinse_when', 'timestamp'])(
    '%s → nothing',
    (unknown) => {
      expect(closestName(unknown, LOG_QUERY)).toBeUndefined();
    },
  );
});

describe('namesAt: the names an object of an admin input takes', () => {
  const input = adminContract.updateTenant.input;

  it('lists the top-level fields, a nested object’s, and the enum keys of a record', () => {
    expect(namesAt(input, [])).toEqual(expect.arrayContaining(['name', 'compat_profile', 'compat_overrides', 'id']));
    expect(namesAt(input, ['compat_overrides'])).toEqual(COMPAT_FLAG_NAMES);
  });

  it('knows no names where the input holds no object', () => {
    expect(namesAt(input, ['name'])).toEqual([]);
    expect(namesAt(input, ['compat_overrides', 'requireIfMatch'])).toEqual([]);
    expect(namesAt(input, ['nope', 'deeper'])).toEqual([]);
  });
});
