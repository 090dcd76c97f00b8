import { z } from 'zod';
import { displayName } from './display-name';
import { COMPAT_FLAG_NAMES, type CompatFlagName } from './scim/compat-flags';

/** What DELETE on a SCIM resource does in this tenant (DESIGN.md §3). */
export const DeleteMode = z.enum(['delete', 'deactivate']);
export type DeleteMode = z.infer<typeof DeleteMode>;

/** The compatibility profiles a tenant picks from (DESIGN.md §3). */
export const CompatProfileName = z.enum(['compatible', 'entra', 'okta', 'strict']);
export type CompatProfileName = z.infer<typeof CompatProfileName>;

export const DEFAULT_LOG_MAX_ENTRIES = 100_000;

/**
 * Flags a tenant sets against its profile (`{"requireIfMatch": true}`): a strictness no profile turns
 * on, or one leniency switched off to see whether an IdP still works without it. Keys are the
 * registry's names; a misspelt one is refused, not stored and ignored.
 */
export const CompatOverrides = z.partialRecord(
  z.enum(COMPAT_FLAG_NAMES as [CompatFlagName, ...CompatFlagName[]]),
  z.boolean(),
);
export type CompatOverrides = z.infer<typeof CompatOverrides>;

export const TenantName = displayName('tenant');

export const Tenant = z.object({
  id: z.string().min(1),
  name: z.string().min(1).max(200),
  created_at: z.iso.datetime(),
  delete_mode: DeleteMode,
  // Older stores lack the settings below; they read as the defaults.
  compat_profile: CompatProfileName.default('compatible'),
  compat_overrides: CompatOverrides.default({}),
  log_max_entries: z.number().int().min(100).max(1_000_000).default(DEFAULT_LOG_MAX_ENTRIES),
});
export type Tenant = z.infer<typeof Tenant>;

/** Strict: a misspelt setting (`compatProfile`) is refused, not answered 200 having changed nothing. */
export const TenantCreate = z.strictObject({
  name: TenantName,
  delete_mode: DeleteMode.optional(),
  compat_profile: CompatProfileName.optional(),
  /** Replaces the tenant's overrides whole: `{}` clears them. */
  compat_overrides: CompatOverrides.optional(),
  log_max_entries: z.number().int().min(100).max(1_000_000).optional(),
});
export type TenantCreate = z.infer<typeof TenantCreate>;

export const TenantUpdate = TenantCreate.partial();
export type TenantUpdate = z.infer<typeof TenantUpdate>;
