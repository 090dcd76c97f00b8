import { SCIM_URN } from '@shared/scim/urns';

/** The SCIM protocol messages (RFC 7644 §3.1, §3.4.3, §3.5.2, §3.7, §3.12), lower-cased for comparison. */
const MESSAGE_URNS: ReadonlySet<string> = new Set(
  [
    SCIM_URN.listResponse,
    SCIM_URN.searchRequest,
    SCIM_URN.patchOp,
    SCIM_URN.bulkRequest,
    SCIM_URN.bulkResponse,
    SCIM_URN.error,
  ].map((urn) => urn.toLowerCase()),
);

/**
 * A protocol message's URN other than `own` a request's `schemas` lists, for a request that does
 * not list its own:
 * another request's message (a PatchOp sent to /Bulk or to .search) is a wrong request, not a loose
 * envelope, refused whatever the flags. Only the real message URNs: a misspelt one
 * (`…:PatchOperation`) stays the flags' to forgive.
 */
export function otherMessageIn(schemas: unknown, own: string): string | undefined {
  if (!Array.isArray(schemas)) return undefined;
  const mine = own.toLowerCase();
  // Its own URN padded with a space is not another message: the flags judge it as before.
  const found = schemas.find((s) => {
    if (typeof s !== 'string') return false;
    const urn = s.trim().toLowerCase();
    return urn !== mine && MESSAGE_URNS.has(urn);
  });
  return typeof found === 'string' ? found : undefined;
}
