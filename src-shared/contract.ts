import { z } from 'zod';
import type { AdminErrorCode } from './errors';
import type { AdminOperationName } from './contract-ops';
import { PageQuery, pageOf, queryInt } from './paging';
import { ScimEndpointInfo } from './endpoint-info';
import { RequestLogEntry, RequestLogQuery, RequestLogSummary } from './request-log';
import {
  HistoryDiff,
  HistoryResourceKind,
  HistoryTimelineQuery,
  HistoryVersion,
  HistoryVersionDetail,
} from './resource-history';
import { CompatFlagsDocument } from './scim/compat-flags-document';
import { ServerStatus } from './server-status';
import { CreatedScimToken, ScimToken, ScimTokenName } from './scim-token';
import { Tenant, TenantCreate, TenantUpdate } from './tenant';

const ById = z.object({ id: z.string().min(1).max(200) });
const NoContent = z.undefined();
/** The last instant whose UTC form still has a four-digit year (what every stored time is written as). */
const LAST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * ISO 8601 instants, or null for "never". An offset can carry a time past 9999 in UTC
 * (`9999-12-31T23:59:59-05:00`), which stored as `+010000-…` broke every later list of tokens.
 */
const ExpiresAt = z.iso
  .datetime({
    offset: true,
    error: (issue) =>
      `must be an ISO 8601 date-time with Z or an offset, like 2027-01-31T09:00:00Z, or null for never; not ${JSON.stringify(issue.input)}`,
  })
  // zod runs this even on a value the format refused: one that is no date at all is not also "too late".
  .refine((value) => !(Date.parse(value) > LAST_INSTANT_MS), 'must be no later than 9999-12-31T23:59:59.999Z')
  .nullable()
  .optional();

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One admin operation, declared once. The HTTP admin routes, the IPC handlers, the preload's
 * allow-list and the renderer's client are all derived from these rows.
 */
export interface AdminOperation<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** Relative to /api/v1/admin; `:name` segments are filled from the input's field of that name. */
  path: string;
  /** HTTP status on success. */
  status: 200 | 201 | 204;
  input: I;
  output: O;
  /** The errors this operation can answer besides validation_failed/unauthorized/forbidden. */
  errors: readonly AdminErrorCode[];
  summary: string;
}

export const adminContract = {
  listTenants: {
    method: 'GET',
    path: '/tenants',
    status: 200,
    input: PageQuery,
    output: pageOf(Tenant),
    errors: [],
    summary: 'List tenants, oldest first.',
  },
  createTenant: {
    method: 'POST',
    path: '/tenants',
    status: 201,
    input: TenantCreate,
    output: Tenant,
    errors: ['conflict'],
    summary: 'Create a tenant; names are unique, ignoring case.',
  },
  getTenant: {
    method: 'GET',
    path: '/tenants/:id',
    status: 200,
    input: ById,
    output: Tenant,
    errors: ['not_found'],
    summary: 'One tenant with its settings.',
  },
  updateTenant: {
    method: 'PATCH',
    path: '/tenants/:id',
    status: 200,
    input: TenantUpdate.extend(ById.shape),
    output: Tenant,
    errors: ['not_found', 'conflict'],
    summary: 'Rename a tenant or change its settings (delete_mode, compat_profile, compat_overrides, log_max_entries).',
  },
  deleteTenant: {
    method: 'DELETE',
    path: '/tenants/:id',
    status: 204,
    input: ById,
    output: NoContent,
    errors: ['not_found'],
    summary: 'Delete a tenant with all its users, groups, tokens and logs.',
  },
  listScimTokens: {
    method: 'GET',
    path: '/scim-tokens',
    status: 200,
    input: PageQuery.extend({ tenant_id: z.string().min(1).optional() }),
    output: pageOf(ScimToken),
    errors: ['not_found'],
    summary: 'List SCIM tokens, newest first, optionally of one tenant.',
  },
  createScimToken: {
    method: 'POST',
    path: '/scim-tokens',
    status: 201,
    input: z.strictObject({ tenant_id: z.string().min(1), name: ScimTokenName, expires_at: ExpiresAt }),
    output: CreatedScimToken,
    errors: ['not_found'],
    summary: 'Create a SCIM token; the secret `token` is shown in this answer only.',
  },
  // Before /scim-tokens/:id, which would otherwise take "endpoint-info" for an id.
  getScimEndpointInfo: {
    method: 'GET',
    path: '/scim-tokens/endpoint-info',
    status: 200,
    input: z.object({ tenant_id: z.string().min(1) }),
    output: ScimEndpointInfo,
    errors: ['not_found'],
    summary: 'The base URLs and the fields to paste into Microsoft Entra ID and Okta for a tenant.',
  },
  getScimToken: {
    method: 'GET',
    path: '/scim-tokens/:id',
    status: 200,
    input: ById,
    output: ScimToken,
    errors: ['not_found'],
    summary: 'One SCIM token (never its secret).',
  },
  updateScimToken: {
    method: 'PATCH',
    path: '/scim-tokens/:id',
    status: 200,
    // Strict, as every body: `{"revoked": true}` must not be answered 200 while the token still works.
    input: z.strictObject({ ...ById.shape, name: ScimTokenName.optional(), expires_at: ExpiresAt }),
    output: ScimToken,
    errors: ['not_found'],
    summary: 'Rename a SCIM token or change its expiry (a revoked token can be renamed only: it stays revoked).',
  },
  revokeScimToken: {
    method: 'DELETE',
    path: '/scim-tokens/:id',
    status: 204,
    input: ById,
    output: NoContent,
    errors: ['not_found'],
    summary: 'Revoke a SCIM token (soft delete): it stops working at once, its record stays.',
  },
  listRequestLogs: {
    method: 'GET',
    path: '/request-logs',
    status: 200,
    input: RequestLogQuery,
    output: pageOf(RequestLogSummary),
    errors: ['not_found'],
    summary: 'Logged requests, newest first, filtered by tenant, method, status (404 or 4xx), path, text and time.',
  },
  getRequestLog: {
    method: 'GET',
    path: '/request-logs/:id',
    status: 200,
    input: ById,
    output: RequestLogEntry,
    errors: ['not_found'],
    summary: 'One logged request with its (redacted) headers and bodies.',
  },
  getResourceHistory: {
    method: 'GET',
    path: '/tenants/:tenant_id/history/:kind/:id',
    status: 200,
    input: HistoryTimelineQuery,
    output: pageOf(HistoryVersion),
    errors: ['not_found'],
    summary: 'The versions of a user or group, newest first: when, by whom, which attributes.',
  },
  getResourceVersion: {
    method: 'GET',
    path: '/tenants/:tenant_id/history/:kind/:id/versions/:version',
    status: 200,
    input: z.object({
      tenant_id: z.string().min(1),
      kind: HistoryResourceKind,
      id: z.string().min(1),
      version: queryInt(1),
    }),
    output: HistoryVersionDetail,
    errors: ['not_found'],
    summary: 'A user or group as it was at one version.',
  },
  diffResourceVersions: {
    method: 'GET',
    path: '/tenants/:tenant_id/history/:kind/:id/diff',
    status: 200,
    input: z.object({
      tenant_id: z.string().min(1),
      kind: HistoryResourceKind,
      id: z.string().min(1),
      from: queryInt(1),
      to: queryInt(1),
    }),
    output: HistoryDiff,
    errors: ['not_found'],
    summary: 'What changed between two versions of a user or group.',
  },
  listCompatFlags: {
    method: 'GET',
    path: '/compat-flags',
    status: 200,
    input: z.object({}),
    output: CompatFlagsDocument,
    errors: [],
    summary: 'The compatibility flags and which profile turns each on (for the console and docs).',
  },
  getServerStatus: {
    method: 'GET',
    path: '/status',
    status: 200,
    input: z.object({}),
    output: ServerStatus,
    errors: [],
    summary: 'Address, uptime, data folder, counts per tenant and requests in the last minute.',
  },
} as const satisfies { [K in AdminOperationName]: AdminOperation };

export type AdminContract = typeof adminContract;
export type AdminInput<K extends AdminOperationName> = z.input<AdminContract[K]['input']>;
export type AdminParsedInput<K extends AdminOperationName> = z.output<AdminContract[K]['input']>;
export type AdminOutput<K extends AdminOperationName> = z.output<AdminContract[K]['output']>;

/** The server's side: exactly one handler per operation, given the parsed input. */
export type AdminHandlers = {
  [K in AdminOperationName]: (input: AdminParsedInput<K>) => Promise<AdminOutput<K>>;
};

/** The renderer's side: one method per operation, taking the input before defaults apply. */
export type AdminClient = {
  [K in AdminOperationName]: (input: AdminInput<K>) => Promise<AdminOutput<K>>;
};
