import { describe, expect, it } from 'vitest';
import { SCIM_URN } from '@shared/scim/urns';
import {
  checkDiscoveryQuery,
  resourceTypeDocument,
  resourceTypeDocumentByName,
  resourceTypesList,
  schemaDocumentByUrn,
  schemasList,
} from '../../../src-main/scim/schema-documents';
import {
  DEFAULT_SERVER_CAPABILITIES,
  serviceProviderConfig,
  type ServerCapabilities,
} from '../../../src-main/scim/service-provider-config';
import { registry } from './helpers';
import { scimErrorOf } from './patch-helpers';

const base = 'https://scim.example.com/scim/v2';

describe('ServiceProviderConfig (RFC 7643 §5)', () => {
  it('advertises what the capabilities say, with the bulk and filter limits', () => {
    const doc = serviceProviderConfig(DEFAULT_SERVER_CAPABILITIES, `${base}/ServiceProviderConfig`);
    expect(doc).toMatchObject({
      schemas: [SCIM_URN.serviceProviderConfig],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 4194304 },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: true },
      sort: { supported: true },
      etag: { supported: true },
      meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
    });
    expect(doc.authenticationSchemes).toEqual([
      expect.objectContaining({
        type: 'oauthbearertoken',
        primary: true,
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
      }),
    ]);
  });
  it('never claims more than it is given, and does not share the caller’s objects', () => {
    const off: ServerCapabilities = {
      ...DEFAULT_SERVER_CAPABILITIES,
      patch: false,
      bulk: { ...DEFAULT_SERVER_CAPABILITIES.bulk, supported: false },
    };
    const doc = serviceProviderConfig(off, 'x');
    expect(doc.patch.supported).toBe(false);
    expect(doc.bulk.supported).toBe(false);
    expect(doc.bulk).not.toBe(off.bulk);
  });
});

describe('/Schemas and /ResourceTypes (RFC 7643 §6, §7; RFC 7644 §4)', () => {
  it('wrap both lists in ListResponse', () => {
    for (const list of [schemasList(registry, base), resourceTypesList(registry, base)]) {
      expect(list.schemas).toEqual([SCIM_URN.listResponse]);
      expect(list.totalResults).toBe(list.Resources.length);
      expect(list.itemsPerPage).toBe(list.Resources.length);
      expect(list.startIndex).toBe(1);
    }
  });
  it('give every document meta.resourceType and an absolute meta.location under the base', () => {
    for (const s of schemasList(registry, `${base}/`).Resources) {
      expect(s.meta).toEqual({ resourceType: 'Schema', location: `${base}/Schemas/${s.id}` });
    }
    expect(resourceTypesList(registry, base).Resources.map((r) => r.meta)).toEqual([
      { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
      { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    ]);
  });
  it('describe resource types with their schema extensions', () => {
    const group = registry.resourceTypes.find((t) => t.name === 'Group')!;
    expect(resourceTypeDocument(group, base)).toEqual({
      schemas: [SCIM_URN.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: SCIM_URN.group,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    });
  });
  it('look single documents up case-insensitively; unknown ones are 404', () => {
    expect(schemaDocumentByUrn(registry, SCIM_URN.enterpriseUser.toLowerCase(), base).id).toBe(SCIM_URN.enterpriseUser);
    expect(resourceTypeDocumentByName(registry, 'user', base).id).toBe('User');
    expect(scimErrorOf(() => schemaDocumentByUrn(registry, 'urn:nope', base)).status).toBe(404);
    expect(scimErrorOf(() => resourceTypeDocumentByName(registry, 'Widget', base)).status).toBe(404);
  });
  it('refuse filters with 403 (RFC 7644 §4)', () => {
    expect(() => checkDiscoveryQuery({})).not.toThrow();
    expect(() => checkDiscoveryQuery({ filter: '' })).not.toThrow();
    expect(scimErrorOf(() => checkDiscoveryQuery({ filter: 'id eq "User"' })).status).toBe(403);
  });
});
