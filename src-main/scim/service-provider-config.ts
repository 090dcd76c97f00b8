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

/**
 * Everything the SCIM core implements (PATCH engine, bulk planning, filters, sort, ETags). The HTTP
 * layer advertises a feature only once its route is wired, by overriding this value (RFC 7643 §5:
 * the document must not claim more than the server does). Limits are DESIGN.md §3's.
 */
export const DEFAULT_SERVER_CAPABILITIES: ServerCapabilities = {
  patch: true,
  bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 4 * 1024 * 1024 },
  filter: { supported: true, maxResults: DEFAULT_MAX_RESULTS },
  // A password is replaced by PUT or PATCH like any writeOnly attribute (RFC 7644 §3.5.2).
  changePassword: true,
  sort: true,
  etag: true,
};

/** RFC 7643 §5 / §8.5: the `/ServiceProviderConfig` body; `location` is its absolute URL. */
export function serviceProviderConfig(capabilities: ServerCapabilities, location: string) {
  return {
    schemas: [SCIM_URN.serviceProviderConfig],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: capabilities.patch },
    bulk: { ...capabilities.bulk },
    filter: { ...capabilities.filter },
    changePassword: { supported: capabilities.changePassword },
    sort: { supported: capabilities.sort },
    etag: { supported: capabilities.etag },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A SCIM token created in scimdesk, sent as "Authorization: Bearer <token>".',
        // RFC 7643 §5: the scheme's specification (RFC 6750, bearer tokens).
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location },
  };
}
