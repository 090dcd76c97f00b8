import { describe, expect, it } from 'vitest';
import { compatFlags } from '@shared/scim/compat-flags';
import { SCIM_URN } from '@shared/scim/urns';
import { CompatContext } from '../../../src-main/scim/compat';
import { parseSearchRequest } from '../../../src-main/scim/search-request';
import { expectRefusedBy, scimErrorOf } from './patch-helpers';

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
      under('compatible'),
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
    for (const schemas of [undefined, [], ['urn:x'], SCIM_URN.searchRequest]) {
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
  it("refuses another request's message URN in any profile, as PATCH and Bulk do", () => {
    for (const profile of ['compatible', 'strict'] as const) {
      const error = scimErrorOf(() => parseSearchRequest({ schemas: [SCIM_URN.patchOp], count: 1 }, under(profile)));
      expect(error).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
      expect(error.message).toContain(`lists ${SCIM_URN.patchOp} in "schemas", another request's message`);
    }
    // Told as that in strict too, not by the PatchOp's own "Operations".
    const patchOp = { schemas: [SCIM_URN.patchOp], Operations: [] };
    expect(scimErrorOf(() => parseSearchRequest(patchOp, under('strict'))).message).toContain(
      "another request's message",
    );
    // Its own URN with a space around it is no other message: the flags judge it, as before.
    expect(
      parseSearchRequest({ schemas: [` ${SCIM_URN.searchRequest}`], count: 1 }, under('compatible')),
    ).toMatchObject({ count: 1 });
  });
  it('strict: refuses attributes a SearchRequest has not, and startIndex or count as text', () => {
    const schemas = [SCIM_URN.searchRequest];
    const unknown = expectRefusedBy(
      () => parseSearchRequest({ schemas, filtre: 'x pr' }, under('strict')),
      'strictSchemaValidation',
      'invalidSyntax',
    );
    expect(unknown.message).toContain('"filtre", not an attribute of a SearchRequest');
    for (const name of ['startIndex', 'count']) {
      const text = expectRefusedBy(
        () => parseSearchRequest({ schemas, [name]: '2' }, under('strict')),
        'strictSchemaValidation',
        'invalidValue',
      );
      expect(text.message).toContain(`${name} must be a JSON number, not "2"`);
    }
    expect(parseSearchRequest({ schemas, startIndex: 2, count: 1 }, under('strict'))).toMatchObject({
      startIndex: 2,
      count: 1,
    });
  });
});

describe('parseSearchRequest: attribute names are case-insensitive (RFC 7643 §2.1)', () => {
  it('reads every SearchRequest attribute in any case', () => {
    const query = parseSearchRequest(
      {
        SCHEMAS: [SCIM_URN.searchRequest],
        Filter: 'userName eq "x"',
        STARTINDEX: 3,
        Count: 1,
        sortby: 'userName',
        SortOrder: 'descending',
        Attributes: ['userName'],
        EXCLUDEDattributes: ['emails'],
      },
      under('strict'),
    );
    expect(query).toEqual({
      filter: 'userName eq "x"',
      startIndex: 3,
      count: 1,
      sortBy: 'userName',
      sortOrder: 'descending',
      attributes: ['userName'],
      excludedAttributes: ['emails'],
    });
  });
  it('refuses one attribute given twice in different cases, naming both spellings', () => {
    const twice = () =>
      parseSearchRequest({ filter: 'userName eq "a"', Filter: 'userName eq "b"' }, under('compatible'));
    const error = scimErrorOf(twice);
    expect(error).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(error.message).toMatch(/gives filter twice \("filter" and "Filter"/);
    // The same spelling twice is JSON's business (the last wins in JSON.parse), not a second key here.
    expect(parseSearchRequest(JSON.parse('{"count":1,"count":2}'), under('compatible'))).toMatchObject({ count: 2 });
  });
  it('still ignores names that are not SearchRequest attributes, in any case', () => {
    expect(parseSearchRequest({ Filtre: 'x pr', filter: 'y pr' }, under('compatible'))).toMatchObject({
      filter: 'y pr',
    });
  });
});
