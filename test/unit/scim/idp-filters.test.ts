import { describe, expect, it } from 'vitest';
import entra from '../../fixtures/idp/entra/filters.json';
import okta from '../../fixtures/idp/okta/filters.json';
import { parseFilter } from '../../../src-main/scim/filter/parser';
import { buildListResponse } from './helpers';
import { createMemoryCandidateSource } from '../../../src-main/scim/memory-source';
import { plan } from '../../../src-main/scim/plan';
import { findMatching } from '../../../src-main/scim/query';
import type { ResourceData } from '../../../src-main/scim/values';
import { groupSchema, userSchema } from './helpers';

interface IdpCase {
  name: string;
  resourceType: string;
  query: { filter?: string; startIndex?: string; count?: string; excludedAttributes?: string };
  expect: {
    ids: string[];
    totalResults?: number;
    itemsPerPage?: number;
    startIndex?: number;
    plan?: string;
    absent?: string[];
  };
}
interface IdpFixture {
  resources: { User: ResourceData[]; Group: ResourceData[] };
  cases: IdpCase[];
}

/** The query path the HTTP layer will take: parse, plan + re-check, sort/page/project. */
function run(fixture: IdpFixture, c: IdpCase) {
  const schema = c.resourceType === 'User' ? userSchema : groupSchema;
  const all = fixture.resources[c.resourceType as 'User' | 'Group'];
  const source = createMemoryCandidateSource(fixture.resources);
  const ast = c.query.filter === undefined ? undefined : parseFilter(c.query.filter);
  const matched = findMatching(ast, schema, source, (id) => all.find((r) => r['id'] === id));
  return { response: buildListResponse(matched, schema, c.query), plan: plan(ast, schema) };
}

describe.each([
  ['Microsoft Entra ID (test/fixtures/idp/entra/filters.json)', entra as IdpFixture],
  ['Okta (test/fixtures/idp/okta/filters.json)', okta as IdpFixture],
])('%s', (_label, fixture) => {
  it.each(fixture.cases)('$name', (c) => {
    const { response, plan: p } = run(fixture, c);
    expect(response.Resources.map((r) => r['id'])).toEqual(c.expect.ids);
    if (c.expect.totalResults !== undefined) expect(response.totalResults).toBe(c.expect.totalResults);
    if (c.expect.itemsPerPage !== undefined) expect(response.itemsPerPage).toBe(c.expect.itemsPerPage);
    if (c.expect.startIndex !== undefined) expect(response.startIndex).toBe(c.expect.startIndex);
    if (c.expect.plan !== undefined) expect(p.kind).toBe(c.expect.plan);
    for (const attr of c.expect.absent ?? []) for (const r of response.Resources) expect(r).not.toHaveProperty(attr);
  });
});
