/**
 * The names of every admin operation, apart from their schemas so that the sandboxed preload can
 * check an operation name without bundling zod. contract.ts must give each name exactly one row;
 * TypeScript refuses a missing or an extra one.
 */
export const ADMIN_OPERATION_NAMES = [
  'listTenants',
  'createTenant',
  'getTenant',
  'updateTenant',
  'deleteTenant',
  'listScimTokens',
  'createScimToken',
  'getScimEndpointInfo',
  'getScimToken',
  'updateScimToken',
  'revokeScimToken',
  'listRequestLogs',
  'getRequestLog',
  'getResourceHistory',
  'getResourceVersion',
  'diffResourceVersions',
  'listCompatFlags',
  'getServerStatus',
] as const;
export type AdminOperationName = (typeof ADMIN_OPERATION_NAMES)[number];

export function isAdminOperationName(value: unknown): value is AdminOperationName {
  return typeof value === 'string' && (ADMIN_OPERATION_NAMES as readonly string[]).includes(value);
}

/** The one IPC channel the preload uses; the operation name travels as the first argument. */
export const ADMIN_IPC_CHANNEL = 'scimdesk:admin';
