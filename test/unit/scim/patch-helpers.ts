import { expect } from 'vitest';
import { compatFlags, type CompatProfileName } from '@shared/scim/compat-flags';
import { SCIM_URN } from '@shared/scim/urns';
import { ScimCompatError } from '../../../src-main/scim/compat';
import { ScimError } from '../../../src-main/scim/errors';
import { applyPatch } from '../../../src-main/scim/patch';
import type { PatchResult } from '../../../src-main/scim/patch';
import type { ResourceData } from '../../../src-main/scim/values';
import { groupSchema, userSchema } from './helpers';

export const ENTERPRISE = SCIM_URN.enterpriseUser;

export function patchBody(...ops: unknown[]) {
  return { schemas: [SCIM_URN.patchOp], Operations: ops };
}

/** Applies a PATCH in a profile (default `compatible`); the resource type is read from meta or schemas. */
export function patch(
  resource: ResourceData,
  ops: readonly unknown[],
  profile: CompatProfileName = 'compatible',
  overrides: Parameters<typeof compatFlags>[1] = {},
): PatchResult {
  const schema = isGroup(resource) ? groupSchema : userSchema;
  return applyPatch(resource, patchBody(...ops), { schema, compat: compatFlags(profile, overrides) });
}

function isGroup(resource: ResourceData): boolean {
  const schemas = resource['schemas'];
  return Array.isArray(schemas) && schemas.includes(SCIM_URN.group);
}

/** The ScimError a call throws; fails if it throws anything else or nothing. */
export function scimErrorOf(fn: () => unknown): ScimError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ScimError) return e;
    throw new Error(`expected ScimError, got ${String(e)}`);
  }
  throw new Error('expected ScimError, nothing was thrown');
}

export function expectRefusedBy(fn: () => unknown, flag: string, scimType?: string): ScimCompatError {
  const e = scimErrorOf(fn);
  expect(e).toBeInstanceOf(ScimCompatError);
  expect((e as ScimCompatError).flag).toBe(flag);
  expect(e.message).toContain(`"${flag}"`);
  if (scimType) expect(e.scimType).toBe(scimType);
  return e as ScimCompatError;
}

export const user = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  schemas: [SCIM_URN.user],
  id: 'u1',
  userName: 'bjensen',
  active: true,
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  meta: { resourceType: 'User', version: 'W/"1"' },
  ...extra,
});

export const group = (members: readonly string[] = ['m1', 'm2'], extra: Record<string, unknown> = {}) => ({
  schemas: [SCIM_URN.group],
  id: 'g1',
  displayName: 'Tour Guides',
  ...(members.length > 0 ? { members: members.map((value) => ({ value, type: 'User' })) } : {}),
  meta: { resourceType: 'Group' },
  ...extra,
});
