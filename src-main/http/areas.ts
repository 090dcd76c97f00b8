import { withUnreservedDecoded } from '@shared/percent-encoding';
import { ADMIN_BASE_PATH } from '@shared/session';

/** The three kinds of path the server answers, each with its own error format. */
export type Area = 'admin' | 'scim' | 'console';

export const TOKEN_SCIM_BASE = '/scim/v2';
export const TENANT_SCIM_BASE = '/api/v1/tenants/:tenantId/scim/v2';
const TENANT_SCIM_PATTERN = /^\/api\/v1\/tenants\/[^/]+\/scim\/v2(\/|$)/;

/** Under `/scim/v2`, where the tenant comes from the token. */
export function isTokenBasePath(path: string): boolean {
  return path === TOKEN_SCIM_BASE || path.startsWith(`${TOKEN_SCIM_BASE}/`);
}

/**
 * The area a path is in, read as the routers will read it: escaped unreserved characters decoded,
 * since `/%73cim/v2/Users` is `/scim/v2/Users` (the request log keeps the path as sent).
 */
export function areaOf(sent: string): Area {
  const path = sent.includes('%') ? withUnreservedDecoded(sent) : sent;
  if (path === ADMIN_BASE_PATH || path.startsWith(`${ADMIN_BASE_PATH}/`)) return 'admin';
  if (isTokenBasePath(path)) return 'scim';
  if (TENANT_SCIM_PATTERN.test(path)) return 'scim';
  return 'console';
}

/**
 * A request outside the SCIM and admin paths that may be API traffic all the same: it carries a
 * bearer token (browsers send none for the console's files; a proxy's Basic credentials do not
 * count), or it is not a read. It is usually an IdP pointed at a mistyped base URL (`/scim/Users`,
 * `/SCIM/v2/Users`), the most common setup mistake: when no console file answers it, it is logged
 * and told where the APIs are, rather than served as a missing file.
 */
export function isMisdirectedApiRequest(method: string, authorization: string): boolean {
  return /^\s*bearer\s/i.test(authorization) || (method !== 'GET' && method !== 'HEAD');
}
