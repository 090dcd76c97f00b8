import type { CustomCheck, Level } from '../types';
import { ENTERPRISE, GROUP, USER } from './common';

/**
 * Microsoft's validation of a SCIM endpoint for the Entra app gallery (the Logic App in
 * AzureAD/SCIMReferenceCode, `Microsoft.SCIM.LogicAppValidationTemplate`, Schema_Discoverability_Test,
 * August 2026): it reads `/Schemas`, makes attribute paths of the core User and Group schemas and of
 * the extensions whose id ends in "user" or "group", and fails unless every target attribute of the
 * app but `id` is among them, compared case-insensitively. An endpoint that serves everything but
 * leaves `externalId` (a common attribute, RFC 7643 §3.1) out of its schemas fails it.
 */

const addressParts = ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country'];

/** The target attributes of Entra's non-gallery SCIM app (customappsso), which a new app starts from. */
export const ENTRA_TARGET_ATTRIBUTES: { readonly user: readonly string[]; readonly group: readonly string[] } = {
  user: [
    'userName',
    'active',
    'displayName',
    'title',
    'preferredLanguage',
    ...['givenName', 'familyName', 'formatted', 'honorificPrefix', 'honorificSuffix'].map((p) => `name.${p}`),
    'nickName',
    'userType',
    'locale',
    'timezone',
    'externalId',
    ...['work', 'home', 'other'].map((t) => `emails[type eq "${t}"].value`),
    ...['work', 'mobile', 'fax', 'home', 'other', 'pager'].map((t) => `phoneNumbers[type eq "${t}"].value`),
    ...['work', 'home', 'other'].flatMap((t) => addressParts.map((p) => `addresses[type eq "${t}"].${p}`)),
    ...['display', 'type', 'value'].map((p) => `roles[primary eq "True"].${p}`),
    ...['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager'].map(
      (name) => `${ENTERPRISE}:${name}`,
    ),
  ],
  group: ['displayName', 'externalId', 'members'],
};

interface ListedAttribute {
  name: string;
  type: string;
  multiValued: boolean;
  subAttributes: ListedAttribute[];
  canonicalValues: string[];
}

/** An attribute as the validator reads it; anything else in a server's answer is skipped, not fatal. */
function listedAttributes(value: unknown): ListedAttribute[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown): ListedAttribute[] => {
    if (typeof item !== 'object' || item === null) return [];
    const a = item as Record<string, unknown>;
    if (typeof a.name !== 'string') return [];
    return [
      {
        name: a.name,
        type: typeof a.type === 'string' ? a.type.toLowerCase() : '',
        multiValued: a.multiValued === true,
        subAttributes: listedAttributes(a.subAttributes),
        canonicalValues: Array.isArray(a.canonicalValues) ? a.canonicalValues.map(String) : [],
      },
    ];
  });
}

/** The paths the validator makes of one schema's attributes. */
function pathsOf(attributes: readonly ListedAttribute[]): string[] {
  return attributes.flatMap((a): string[] => {
    if (a.name === 'manager' || a.name === 'members') return [a.name];
    const subs = a.subAttributes;
    if (a.type === 'complex' && a.multiValued) {
      const types = subs.find((s) => s.name === 'type')?.canonicalValues ?? [];
      if (types.length > 0) {
        const named = subs.filter((s) => s.name !== 'type' && s.name !== 'primary');
        return types.flatMap((t) => named.map((s) => `${a.name}[type eq "${t}"].${s.name}`));
      }
      return subs.filter((s) => s.name !== 'primary').map((s) => `${a.name}[primary eq "True"].${s.name}`);
    }
    if (a.type === 'complex') {
      return subs.filter((s) => s.type !== 'complex' && s.type !== 'reference').map((s) => `${a.name}.${s.name}`);
    }
    return a.type === 'reference' ? [] : [a.name];
  });
}

/** The target attributes a `/Schemas` answer leaves out, for users and for groups. */
export function missingForGallery(body: unknown): { user: string[]; group: string[] } {
  const found = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).Resources : undefined;
  const schemas = (Array.isArray(found) ? found : []).flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const { id, attributes } = item as Record<string, unknown>;
    return typeof id === 'string' ? [{ id, attributes: listedAttributes(attributes) }] : [];
  });
  const core = (id: string) => pathsOf(schemas.find((s) => s.id === id)?.attributes ?? []);
  const extensions = (suffix: string) =>
    schemas
      .filter((s) => s.id !== USER && s.id !== GROUP && s.id.toLowerCase().endsWith(suffix))
      .flatMap((s) => s.attributes.map((a) => `${s.id}:${a.name}`));
  const missing = (wanted: readonly string[], paths: string[]) => {
    const listed = new Set(paths.map((p) => p.toLowerCase()));
    return wanted.filter((path) => !listed.has(path.toLowerCase()));
  };
  return {
    user: missing(ENTRA_TARGET_ATTRIBUTES.user, [...core(USER), ...extensions('user')]),
    group: missing(ENTRA_TARGET_ATTRIBUTES.group, [...core(GROUP), ...extensions('group')]),
  };
}

export function galleryDiscoverable(level: Level): CustomCheck {
  return {
    level,
    describe: "the gallery validator would not find every attribute Entra maps in the server's schemas",
    test: (body) => {
      const { user, group } = missingForGallery(body);
      const said = [
        user.length > 0 ? `users lack ${user.join(', ')}` : '',
        group.length > 0 ? `groups lack ${group.join(', ')}` : '',
      ].filter(Boolean);
      return said.length > 0 ? said.join('; ') : undefined;
    },
  };
}
