import { z } from 'zod';

/** What an IdP needs to be pointed at a tenant (seed 004's endpoint-info, made concrete). */
export const ScimEndpointInfo = z.object({
  tenant_id: z.string(),
  /** The token-scoped base URL most IdPs are given: the tenant comes from the token. */
  scim_base_url: z.string(),
  /** The same API with the tenant in the path. */
  tenant_scim_base_url: z.string(),
  authentication: z.object({ scheme: z.literal('Bearer'), header: z.string(), type: z.literal('oauthbearertoken') }),
  entra: z.object({ tenant_url: z.string(), secret_token: z.string() }),
  okta: z.object({
    base_url: z.string(),
    unique_identifier_field: z.string(),
    authentication_mode: z.string(),
    supported_actions: z.array(z.string()),
  }),
  active_tokens: z.number().int().min(0),
});
export type ScimEndpointInfo = z.infer<typeof ScimEndpointInfo>;
