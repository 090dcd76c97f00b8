import { z } from 'zod';
import { displayName } from './display-name';

/** Every SCIM token's secret starts so: the console and the admin API tell one apart by it. */
export const SCIM_TOKEN_PREFIX = 'scimdesk_';

/** A whole SCIM token: the prefix, then 32 random bytes in base64url. */
const SCIM_TOKEN_SHAPE = new RegExp(`^${SCIM_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`);

export function isScimTokenShaped(secret: string): boolean {
  return SCIM_TOKEN_SHAPE.test(secret);
}

/** A SCIM token as the admin API shows it (seed 004, DESIGN.md §3): never the secret or its hash. */
export const ScimToken = z.object({
  id: z.string(),
  tenant_id: z.string(),
  name: z.string(),
  token_prefix: z.string(),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime().nullable(),
  last_used_at: z.iso.datetime().nullable(),
  revoked_at: z.iso.datetime().nullable(),
});
export type ScimToken = z.infer<typeof ScimToken>;

/** The one answer that carries the secret: right after creation, shown once. */
export const CreatedScimToken = ScimToken.extend({ token: z.string() });
export type CreatedScimToken = z.infer<typeof CreatedScimToken>;

export const ScimTokenName = displayName('token');

/** Why a SCIM credential was refused; the request log shows it, the IdP only sees 401. */
export const CREDENTIAL_REFUSALS = ['malformed', 'unknown', 'expired', 'revoked', 'wrong_tenant'] as const;
export type CredentialRefusal = (typeof CREDENTIAL_REFUSALS)[number];
