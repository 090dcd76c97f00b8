import { describe, expect, it } from 'vitest';
import { closestName } from '../../../src-main/services/admin-dispatch';

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
  ])('%s → %s', (unknown, meant) => {
    expect(closestName(unknown, LOG_QUERY)).toBe(meant);
  });

  // A browser's or proxy's own parameters, and words merely near a short name, are not typos.
  it.each(['_', 'name', 'tag', 'age', 'pg', 'date', 'hash', 'nonce', 'colour', 'sinse_when', 'tenant'])(
    '%s → nothing',
    (unknown) => {
      expect(closestName(unknown, LOG_QUERY)).toBeUndefined();
    },
  );
});
