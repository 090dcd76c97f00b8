import { describe, expect, it } from 'vitest';
import { compatFlags } from '@shared/scim/compat-flags';
import { SCIM_URN } from '@shared/scim/urns';
import { CompatContext } from '../../../src-main/scim/compat';
import { parseSearchRequest } from '../../../src-main/scim/search-request';
import { expectRefusedBy } from './patch-helpers';

const under = (profile: Parameters<typeof compatFlags>[0]) => new CompatContext(compatFlags(profile));

describe('parseSearchRequest (RFC 7644 §3.4.3)', () => {
  it('reads the query in the GET parameters’ terms', () => {
    const query = parseSearchRequest(
      {
        schemas: [SCIM_URN.searchRequest],
        filter: 'userName sw "a"',
        startIndex: 2,
        count: '10',
        sortBy: 'userName',
        sortOrder: 'descending',
        attributes: ['userName'],
        excludedAttributes: 'emails',
      },
      under('strict'),
    );
    expect(query).toEqual({
      filter: 'userName sw "a"',
      startIndex: 2,
      count: '10',
      sortBy: 'userName',
      sortOrder: 'descending',
      attributes: ['userName'],
      excludedAttributes: 'emails',
    });
  });
  it('refuses what is not a search: a non-object, a filter that is not text, attributes that are not names', () => {
    expect(() => parseSearchRequest([], under('compatible'))).toThrow(/must be a JSON object/);
    expect(() => parseSearchRequest({ filter: {} }, under('compatible'))).toThrow(/filter must be a string/);
    expect(() => parseSearchRequest({ attributes: [1] }, under('compatible'))).toThrow(/array of attribute names/);
  });
  it('strict: the body must list the SearchRequest URN, naming the flag; other profiles take it without', () => {
    for (const schemas of [undefined, [], ['urn:x'], SCIM_URN.searchRequest, [SCIM_URN.patchOp]]) {
      const error = expectRefusedBy(
        () => parseSearchRequest({ schemas, filter: 'x pr' }, under('strict')),
        'strictSchemaValidation',
      );
      expect(error.scimType).toBe('invalidSyntax');
    }
    expect(parseSearchRequest({ schemas: [SCIM_URN.searchRequest.toUpperCase()] }, under('strict'))).toEqual(
      expect.objectContaining({ filter: undefined }),
    );
    const compatible = under('compatible');
    expect(parseSearchRequest({ filter: 'x pr' }, compatible)).toMatchObject({ filter: 'x pr' });
    expect(compatible.fired).toEqual([]);
  });
});
