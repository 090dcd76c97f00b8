import { valueAt } from '../expectations';
import type { CustomCheck, Profile } from '../types';
import { ENTERPRISE, GROUP, lists, patch, reflects, USER } from './common';
import { galleryDiscoverable } from './entra-gallery';

/**
 * What Microsoft Entra ID sends, after Microsoft Learn's "Tutorial: Develop and plan provisioning
 * for a SCIM endpoint in Microsoft Entra ID" (its User and Group operation examples, in its order)
 * and "Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user
 * provisioning service". Required: what every Entra provisioning job does. Recommended: what Entra
 * sends in its older, still default behaviour (capitalised ops are required, they are the default
 * too; "False" strings and bare manager ids are warnings, since the aadOptscim062020 flag turns them off).
 */

const USER_NAME = 'Test_User_{{run}}';
const EXTERNAL_ID = 'entra-{{run}}';
const MANAGER_NAME = 'Test_Manager_{{run}}';
const GROUP_NAME = 'Test_Group_{{run}}';
const GROUP_EXTERNAL_ID = 'entra-group-{{run}}';

export const entraProfile: Profile = {
  name: 'entra',
  title: 'Microsoft Entra ID provisioning',
  sources: [
    "Microsoft's SCIM validation Logic App for the Entra app gallery (AzureAD/SCIMReferenceCode, Microsoft.SCIM.LogicAppValidationTemplate): Schema_Discoverability_Test",
    'Microsoft Learn: Tutorial — Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID (User operations, Group operations)',
    'Microsoft Learn: Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user provisioning service',
  ],
  steps: [
    {
      id: 'entra.gallery-schemas',
      name: 'Schema discoverability, as the gallery validator reads /Schemas',
      level: 'recommended',
      why:
        "Microsoft's validation for the Entra app gallery (Schema_Discoverability_Test) fails unless /Schemas " +
        'lists every attribute the app maps, externalId and emails[type eq "work"].value included; a ' +
        'non-gallery app provisions without it.',
      method: 'GET',
      path: '/Schemas',
      expect: { status: 200, body: 'list', checks: [galleryDiscoverable('recommended')] },
    },
    {
      id: 'entra.user-query-zero',
      name: 'Get User by query - Zero results',
      level: 'required',
      why: 'Entra looks a user up by its matching attribute (userName) before creating it; no match must be an empty ListResponse, not 404.',
      method: 'GET',
      path: '/Users',
      query: { filter: `userName eq "${USER_NAME}"` },
      expect: { status: 200, body: 'list', match: { totalResults: 0 } },
    },
    {
      id: 'entra.create-user',
      name: 'Create User',
      level: 'required',
      why: 'Entra creates users with the enterprise extension, emails, name and externalId; it needs 201 and the id.',
      method: 'POST',
      path: '/Users',
      body: {
        schemas: [USER, ENTERPRISE],
        externalId: EXTERNAL_ID,
        userName: USER_NAME,
        active: true,
        emails: [{ primary: true, type: 'work', value: 'Test_User_{{run}}@testuser.com' }],
        meta: { resourceType: 'User' },
        name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
        roles: [],
        [ENTERPRISE]: { employeeNumber: '{{run}}', department: 'Engineering' },
      },
      expect: {
        status: 201,
        body: 'resource',
        match: { userName: USER_NAME, externalId: EXTERNAL_ID, active: true, name: { familyName: 'familyName' } },
      },
      capture: { userId: 'id' },
      creates: 'User',
    },
    {
      id: 'entra.get-user',
      name: 'Get User',
      level: 'required',
      why: 'Entra reads a user back by id.',
      method: 'GET',
      path: '/Users/{{userId}}',
      expect: { status: 200, body: 'resource', match: { id: '{{userId}}', userName: USER_NAME } },
    },
    {
      id: 'entra.user-query-userName',
      name: 'Get User by query (userName)',
      level: 'required',
      why: 'The matching query Entra runs before every update.',
      method: 'GET',
      path: '/Users',
      query: { filter: `userName eq "${USER_NAME}"` },
      expect: { status: 200, body: 'list', match: { totalResults: 1, Resources: [{ id: '{{userId}}' }] } },
    },
    {
      id: 'entra.user-query-externalId',
      name: 'Get User by query (externalId)',
      level: 'required',
      why: 'Entra can match on externalId instead of userName (a common attribute-mapping choice).',
      method: 'GET',
      path: '/Users',
      query: { filter: `externalId eq "${EXTERNAL_ID}"` },
      expect: { status: 200, body: 'list', match: { totalResults: 1, Resources: [{ id: '{{userId}}' }] } },
    },
    {
      id: 'entra.duplicate-user',
      name: 'Create duplicate User is 409',
      level: 'required',
      why: 'Entra treats 409 uniqueness as "already exists" and matches instead of failing the job.',
      method: 'POST',
      path: '/Users',
      body: { schemas: [USER], userName: USER_NAME, active: true },
      expect: { status: 409 },
      advise: { body: 'error', match: { scimType: 'uniqueness' } },
    },
    {
      id: 'entra.patch-multi-valued',
      name: 'Update User [Multi-valued properties]',
      level: 'required',
      why: 'Entra replaces an email through a value filter path and sends capitalised ops ("Replace").',
      method: 'PATCH',
      path: '/Users/{{userId}}',
      body: patch(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updated.{{run}}@testuser.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      ),
      expect: {
        status: [200, 204],
        checks: [
          reflects({ emails: [{ value: 'updated.{{run}}@testuser.com' }], name: { familyName: 'updatedFamilyName' } }),
        ],
      },
    },
    {
      id: 'entra.patch-multi-valued-applied',
      name: 'the multi-valued update is stored',
      level: 'required',
      why: 'A PATCH answered but not applied leaves Entra and the app silently out of sync.',
      method: 'GET',
      path: '/Users/{{userId}}',
      expect: {
        status: 200,
        match: {
          emails: [{ value: 'updated.{{run}}@testuser.com', type: 'work' }],
          name: { familyName: 'updatedFamilyName' },
        },
      },
    },
    {
      id: 'entra.patch-single-valued',
      name: 'Update User [Single-valued properties]',
      level: 'required',
      why: 'Entra replaces single attributes, extension ones by their URN-qualified path.',
      method: 'PATCH',
      path: '/Users/{{userId}}',
      body: patch(
        { op: 'Replace', path: 'displayName', value: 'Updated Display {{run}}' },
        { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Research' },
      ),
      expect: {
        status: [200, 204],
        checks: [reflects({ displayName: 'Updated Display {{run}}', [ENTERPRISE]: { department: 'Research' } })],
      },
    },
    {
      id: 'entra.create-manager',
      name: 'Create the manager',
      level: 'required',
      why: 'Entra provisions the manager as a user first, then references it.',
      method: 'POST',
      path: '/Users',
      body: { schemas: [USER], userName: MANAGER_NAME, externalId: 'entra-manager-{{run}}', active: true },
      expect: { status: 201, body: 'resource' },
      capture: { managerId: 'id' },
      creates: 'User',
    },
    {
      id: 'entra.patch-manager',
      name: 'Update User [manager as a bare id]',
      level: 'recommended',
      why: 'Entra sets the enterprise manager with the id as a plain string value (known issue), not {value}.',
      method: 'PATCH',
      path: '/Users/{{userId}}',
      body: patch({ op: 'Add', path: `${ENTERPRISE}:manager`, value: '{{managerId}}' }),
      expect: { status: [200, 204], checks: [reflects({ [ENTERPRISE]: { manager: { value: '{{managerId}}' } } })] },
    },
    {
      id: 'entra.patch-manager-applied',
      name: 'the manager is stored',
      level: 'recommended',
      why: 'Read back, whatever the PATCH answered (a minimal answer says nothing): the clear that follows is only told from a manager that was set.',
      method: 'GET',
      path: '/Users/{{userId}}',
      expect: { status: 200, match: { [ENTERPRISE]: { manager: { value: '{{managerId}}' } } } },
    },
    {
      id: 'entra.clear-manager',
      name: 'Update User [manager cleared with an empty string]',
      level: 'recommended',
      why: "Entra's SCIM validator (SCIM_Update_Manager_Test) clears the manager by replacing it with an empty string.",
      method: 'PATCH',
      path: '/Users/{{userId}}',
      body: patch({ op: 'replace', path: `${ENTERPRISE}:manager`, value: '' }),
      expect: { status: [200, 204] },
    },
    {
      id: 'entra.clear-manager-applied',
      name: 'the manager is cleared',
      level: 'recommended',
      why: 'The validator then reads the user and wants no manager, or an empty or null manager.value.',
      needs: 'entra.patch-manager-applied',
      method: 'GET',
      path: '/Users/{{userId}}',
      expect: { status: 200, checks: [managerCleared()] },
    },
    {
      id: 'entra.disable-user',
      name: 'Disable User',
      level: 'required',
      why: 'Entra disables (soft-deletes) a user by replacing active with false.',
      method: 'PATCH',
      path: '/Users/{{userId}}',
      body: patch({ op: 'Replace', path: 'active', value: false }),
      expect: { status: [200, 204], checks: [reflects({ active: false })] },
    },
    {
      id: 'entra.disable-user-applied',
      name: 'the user is disabled',
      level: 'required',
      why: 'The deactivation must be stored.',
      method: 'GET',
      path: '/Users/{{userId}}',
      expect: { status: 200, match: { active: false } },
    },
    {
      id: 'entra.enable-user-string-boolean',
      name: 'Enable User with the string "True"',
      level: 'recommended',
      why: 'Without the aadOptscim062020 flag Entra sends booleans as the strings "True"/"False" (known issue).',
      method: 'PATCH',
      path: '/Users/{{userId}}',
      body: patch({ op: 'Replace', path: 'active', value: 'True' }),
      expect: { status: [200, 204], checks: [reflects({ active: true })] },
    },
    {
      id: 'entra.create-group',
      name: 'Create Group',
      level: 'required',
      why: 'Entra creates groups with its own ADSCIM schema URN in `schemas` as well as the core one.',
      method: 'POST',
      path: '/Groups',
      body: {
        schemas: [GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
        externalId: GROUP_EXTERNAL_ID,
        displayName: GROUP_NAME,
        meta: { resourceType: 'Group' },
      },
      expect: { status: 201, body: 'resource', match: { displayName: GROUP_NAME } },
      capture: { groupId: 'id' },
      creates: 'Group',
    },
    {
      id: 'entra.get-group',
      name: 'Get Group (excludedAttributes=members)',
      level: 'required',
      why: 'Entra reads groups without their members to keep large groups cheap.',
      method: 'GET',
      path: '/Groups/{{groupId}}',
      query: { excludedAttributes: 'members' },
      expect: { status: 200, body: 'resource', match: { id: '{{groupId}}', displayName: GROUP_NAME } },
    },
    {
      id: 'entra.group-query-displayName',
      name: 'Get Group by displayName',
      level: 'required',
      why: "Entra's group matching query.",
      method: 'GET',
      path: '/Groups',
      query: { excludedAttributes: 'members', filter: `displayName eq "${GROUP_NAME}"` },
      expect: { status: 200, body: 'list', match: { totalResults: 1, Resources: [{ id: '{{groupId}}' }] } },
    },
    {
      id: 'entra.patch-group-attributes',
      name: 'Update Group [Non-member attributes]',
      level: 'required',
      why: 'Entra renames a group with a Replace on displayName.',
      method: 'PATCH',
      path: '/Groups/{{groupId}}',
      body: patch({ op: 'Replace', path: 'displayName', value: `${GROUP_NAME}_renamed` }),
      expect: { status: [200, 204], checks: [reflects({ displayName: `${GROUP_NAME}_renamed` })] },
    },
    {
      id: 'entra.add-first-member',
      name: 'Update Group [Add Members]: a member already there',
      level: 'required',
      why: 'The group holds a member (the manager) before the one the next steps add and remove, which must stay: an add that replaces the list, or a remove that empties it, wipes memberships.',
      method: 'PATCH',
      path: '/Groups/{{groupId}}',
      body: patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: '{{managerId}}' }] }),
      expect: { status: [200, 204], checks: [reflects({ members: [{ value: '{{managerId}}' }] })] },
    },
    {
      id: 'entra.add-member',
      name: 'Update Group [Add Members]',
      level: 'required',
      why: 'Entra adds members with op "Add", path "members" and a list of {value} ($ref null).',
      method: 'PATCH',
      path: '/Groups/{{groupId}}',
      body: patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: '{{userId}}' }] }),
      expect: { status: [200, 204], checks: [reflects({ members: [{ value: '{{userId}}' }] })] },
    },
    {
      id: 'entra.add-member-applied',
      name: 'the member is stored',
      level: 'required',
      why: 'A membership answered but not stored is the classic silent SCIM bug; the member already there stays.',
      method: 'GET',
      path: '/Groups/{{groupId}}',
      expect: { status: 200, match: { members: [{ value: '{{managerId}}' }, { value: '{{userId}}' }] } },
    },
    {
      id: 'entra.member-query',
      name: 'Membership check by filter',
      level: 'recommended',
      why: 'Entra may check one membership with `id eq ... and members[value eq ...]` instead of reading all members.',
      method: 'GET',
      path: '/Groups',
      query: { filter: 'id eq "{{groupId}}" and members[value eq "{{userId}}"]', excludedAttributes: 'members' },
      expect: { status: 200, body: 'list', match: { totalResults: 1 } },
    },
    {
      id: 'entra.remove-member',
      name: 'Update Group [Remove Members]',
      level: 'required',
      why: 'Entra removes members with op "Remove", path "members" and the members as a value list (known issue: not a filter path).',
      method: 'PATCH',
      path: '/Groups/{{groupId}}',
      body: patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: '{{userId}}' }] }),
      expect: { status: [200, 204] },
    },
    {
      id: 'entra.remove-member-applied',
      name: 'the member is gone, the other stays',
      level: 'required',
      why: 'The removal must be stored, or the user keeps access the directory took away; and it must take only that member.',
      needs: 'entra.add-member-applied',
      method: 'GET',
      path: '/Groups/{{groupId}}',
      expect: {
        status: 200,
        checks: [
          lists('userId', false, 'the removed member is still listed'),
          lists('managerId', true, 'the member that was not removed is gone too'),
        ],
      },
    },
    {
      id: 'entra.delete-group',
      name: 'Delete Group',
      level: 'required',
      why: 'Entra deletes groups that leave the provisioning scope; it expects 204.',
      method: 'DELETE',
      path: '/Groups/{{groupId}}',
      expect: { status: 204 },
      deletes: 'groupId',
    },
    {
      id: 'entra.delete-user',
      name: 'Delete User',
      level: 'required',
      why: 'Entra deletes users (after the soft-delete period); it expects 204.',
      method: 'DELETE',
      path: '/Users/{{userId}}',
      expect: { status: 204 },
      deletes: 'userId',
    },
    {
      id: 'entra.deleted-user-gone',
      name: 'a deleted user is 404',
      level: 'required',
      why: 'Entra reads 404 as "already deleted"; a deleted user that still answers looks alive.',
      method: 'GET',
      path: '/Users/{{userId}}',
      expect: { status: 404 },
    },
  ],
};

/** The Entra validator's test after clearing: no manager, or one whose value is "" or null. */
function managerCleared(): CustomCheck {
  return {
    level: 'recommended',
    describe: 'the manager is still set',
    test: (body) => {
      const manager = valueAt(body, `${ENTERPRISE}.manager`);
      const value = typeof manager === 'object' && manager !== null ? valueAt(manager, 'value') : manager;
      return value === undefined || value === null || value === ''
        ? undefined
        : `manager.value is ${JSON.stringify(value)}`;
    },
  };
}
