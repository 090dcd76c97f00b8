import { SCIM_URN } from '@shared/scim/urns';
import type { SeedGroup, SeedUser } from './generator';

/**
 * SCIM bodies for generated people and groups (RFC 7643 §4.1, §4.2, §4.3). References are passed
 * in already resolved — a server id, or "bulkId:…" inside a BulkRequest (RFC 7644 §3.7.2).
 */

const COUNTRY: Record<string, string> = {
  Berlin: 'DE',
  Lagos: 'NG',
  London: 'GB',
  Madrid: 'ES',
  Mumbai: 'IN',
  'New York': 'US',
  'Sao Paulo': 'BR',
  Seoul: 'KR',
  Sydney: 'AU',
  Toronto: 'CA',
};

export function userBody(user: SeedUser, managerRef: string | undefined, organization: string) {
  return {
    schemas: [SCIM_URN.user, SCIM_URN.enterpriseUser],
    userName: user.userName,
    externalId: user.externalId,
    name: {
      givenName: user.givenName,
      familyName: user.familyName,
      formatted: `${user.givenName} ${user.familyName}`,
    },
    displayName: `${user.givenName} ${user.familyName}`,
    title: user.title,
    userType: 'Employee',
    active: user.active,
    emails: [{ value: user.email, type: 'work', primary: true }],
    phoneNumbers: [{ value: user.phone, type: 'work' }],
    addresses: [{ type: 'work', locality: user.office, country: COUNTRY[user.office] ?? 'US', primary: true }],
    ...(user.password === undefined ? {} : { password: user.password }),
    [SCIM_URN.enterpriseUser]: {
      employeeNumber: user.employeeNumber,
      department: user.department,
      organization,
      ...(managerRef === undefined ? {} : { manager: { value: managerRef } }),
    },
  };
}

export function groupBody(group: SeedGroup, memberRefs: readonly string[]) {
  return {
    schemas: [SCIM_URN.group],
    displayName: group.displayName,
    externalId: group.externalId,
    members: memberRefs.map((value) => ({ value })),
  };
}
