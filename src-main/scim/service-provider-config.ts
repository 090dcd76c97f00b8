import { SCIM_URN } from '@shared/scim/urns';

/**
 * What the server really does, stated once. The discovery document is derived from it, so
 * ServiceProviderConfig never advertises a feature that is not built (RFC 7643 §5).
 */
export interface ServerCapabilities {
  patch: boolean;
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
  filter: { supported: boolean; maxResults: number };
  changePassword: boolean;
  sort: boolean;
  etag: boolean;
}

export const DEFAULT_MAX_RESULTS = 1000;

export function serviceProviderConfig(capabilities: ServerCapabilities, location: string) {
  return {
    schemas: [SCIM_URN.serviceProviderConfig],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: capabilities.patch },
    bulk: capabilities.bulk,
    filter: capabilities.filter,
    changePassword: { supported: capabilities.changePassword },
    sort: { supported: capabilities.sort },
    etag: { supported: capabilities.etag },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A SCIM token created in scimdesk, sent as "Authorization: Bearer <token>".',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location },
  };
}
