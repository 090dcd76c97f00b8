/**
 * The compatibility flag registry (DESIGN.md §3). Every place where scimdesk reads a request more
 * leniently than RFC 7643/7644 asks — or more strictly than it requires — is one named flag here, so
 * a refusal or a rewrite can say which flag caused it, the console can list them, and
 * docs/architecture.md's table is checked against this data by a unit test.
 *
 * This file is data only (it is shared with the renderer); the logic that applies the flags lives
 * in src-main/scim (`compat.ts`, the PATCH engine, input validation, bulk).
 */

/** The profiles a tenant picks from; `compatible` is the default. */
export const COMPAT_PROFILES = ['compatible', 'entra', 'okta', 'strict'] as const;
export type CompatProfileName = (typeof COMPAT_PROFILES)[number];
export const DEFAULT_COMPAT_PROFILE: CompatProfileName = 'compatible';

export const COMPAT_PROFILE_DESCRIPTIONS: Readonly<Record<CompatProfileName, string>> = {
  compatible: 'Default: every leniency Microsoft Entra ID and Okta need, RFC-strict everywhere else.',
  entra: 'What Microsoft Entra ID provisioning sends, and nothing more.',
  okta: 'What Okta provisioning sends, and nothing more.',
  strict: 'RFC 7643/7644 only, for people testing their own SCIM client: every leniency off.',
};

/**
 * - leniency: when on, input an RFC reading would refuse is accepted (and the flag is reported as
 *   fired); when off, that input is refused with an error naming the flag.
 * - strictness: when on, input the RFC allows (or is silent about) is refused, naming the flag.
 */
export type CompatFlagKind = 'leniency' | 'strictness';

/** Which requests a flag can affect. */
export type CompatFlagScope = 'patch' | 'write' | 'bulk' | 'query' | 'request';

interface FlagSpec {
  readonly kind: CompatFlagKind;
  readonly scope: readonly CompatFlagScope[];
  /** One line: what changes when the flag is on. */
  readonly changes: string;
  /** What the RFC says, with its section, so the choice can be checked. */
  readonly rfc: string;
  /** Who needs it (an IdP, or why it exists). */
  readonly seenFrom: string;
  /** On or off in each profile. */
  readonly profiles: Readonly<Record<CompatProfileName, boolean>>;
}

const on = (entra: boolean, okta: boolean, strict = false) => ({ compatible: true, entra, okta, strict });

/** The registry. Order is the order the console and the docs list them in. */
export const COMPAT_FLAG_SPECS = {
  opCaseInsensitive: {
    kind: 'leniency',
    scope: ['patch', 'bulk'],
    changes:
      'PATCH `op` values are matched case-insensitively (`Add`, `Replace`, `Remove`), and so are Bulk operation `method`s (`post`).',
    rfc: 'RFC 7644 §3.5.2 defines the values "add", "remove", "replace"; HTTP methods are case-sensitive (RFC 9110 §9.1).',
    seenFrom: 'Microsoft Entra ID sends capitalised ops.',
    profiles: on(true, false),
  },
  patchEnvelopeLenient: {
    kind: 'leniency',
    scope: ['patch', 'bulk'],
    changes:
      "A PatchOp or BulkRequest body may omit `schemas` or not list its message's URN there (another request's message URN is refused whatever the flag), and the names of its members (`Operations`, `failOnErrors`, an operation's `op`, `path`, `value`, `method`, `bulkId`, `version`, `data`) are matched case-insensitively. Off, another spelling is refused by name, never ignored.",
    rfc: 'RFC 7644 §3.5.2 and §3.7 require the message schema URN in `schemas`.',
    seenFrom: 'Hand-written scripts and older connectors.',
    profiles: on(true, true),
  },
  booleanStrings: {
    kind: 'leniency',
    scope: ['patch', 'write', 'query'],
    changes:
      'The strings "True"/"False" (any case) are accepted for boolean attributes, in bodies and as filter values (`active eq "True"`, `emails[primary eq "True"]`; off, such a filter is 400 invalidFilter, or invalidPath in a PATCH path).',
    rfc: 'RFC 7643 §2.3.2: a boolean is the JSON literal true or false.',
    seenFrom: 'Microsoft Entra ID (`"active": "False"`).',
    profiles: on(true, false),
  },
  bareManagerId: {
    kind: 'leniency',
    scope: ['patch', 'write'],
    changes:
      'A bare string is accepted for a singular complex attribute that has a `value` sub-attribute (`manager`), read as `{ "value": ... }`.',
    rfc: 'RFC 7643 §4.3: manager is complex ({value, $ref, displayName}).',
    seenFrom: 'Microsoft Entra ID (manager given as the manager\u2019s id).',
    profiles: on(true, false),
  },
  singleElementListForSingular: {
    kind: 'leniency',
    scope: ['patch', 'write'],
    changes:
      'A one-element JSON array given for a singular complex attribute (`manager`) is read as that element; a longer list is refused whatever the flag.',
    rfc: 'RFC 7643 §2.4 and §4.3: only multi-valued attributes take a JSON array; manager is singular.',
    seenFrom:
      'Microsoft Entra ID, as Microsoft\u2019s SCIM tutorial shows it adding a manager (`"path":"manager","value":[{"$ref":…,"value":id}]`).',
    profiles: on(true, false),
  },
  pathlessUrnAttributeKeys: {
    kind: 'leniency',
    scope: ['patch'],
    changes:
      'A path-less PATCH value may use URN-qualified attribute paths as keys (`"urn:...:enterprise:2.0:User:manager": ...`).',
    rfc: 'RFC 7644 §3.5.2.1/3: a path-less value is a resource fragment keyed by attribute names (extension attributes nested under their URN).',
    seenFrom: 'Microsoft Entra ID.',
    profiles: on(true, false),
  },
  pathlessDottedKeys: {
    kind: 'leniency',
    scope: ['patch'],
    changes:
      'A path-less PATCH value, or one given for a whole extension, may use attribute paths as keys: dotted (`"name.givenName"`, `"manager.value"` inside the extension\'s object) or with a value filter (`"emails[type eq \\"work\\"].value"`).',
    rfc: 'RFC 7644 §3.5.2.1/3: keys are attribute names; sub-attributes nest inside their attribute.',
    seenFrom: 'Microsoft Entra ID.',
    profiles: on(true, false),
  },
  removeValueList: {
    kind: 'leniency',
    scope: ['patch'],
    changes:
      '`remove` on a multi-valued attribute with a `value` list removes just the listed values (`{"op":"Remove","path":"members","value":[{"value":"id"}]}`); on a singular complex one (`manager`) or a simple one (`title`), its value goes only if it is one given; on a filtered or sub-attribute path the value is not used (and reported as ignored).',
    rfc: 'RFC 7644 §3.5.2.2: remove takes no value; without a filter the whole attribute is removed. Off, a remove with any value is refused rather than emptying the attribute or ignoring the value.',
    seenFrom: 'Microsoft Entra ID (group membership removal).',
    profiles: on(true, false),
  },
  bareExtensionNames: {
    kind: 'leniency',
    scope: ['patch', 'bulk'],
    changes:
      "A PATCH path, or a path-less value's key, may name an extension attribute without its schema URN (`department`, `manager.value`): it is found in the extension that defines it. Off, it is refused (400 invalidPath) naming the URN to put in front.",
    rfc: 'RFC 7644 §3.10: clients "SHOULD fully qualify extended attributes with the associated schema extension URN".',
    seenFrom: 'Microsoft Entra ID (its tutorial\'s manager example: `"path": "manager"`), and hand-written scripts.',
    profiles: on(true, false),
  },
  singularValuePath: {
    kind: 'leniency',
    scope: ['patch'],
    changes:
      'A PATCH path may filter a singular complex attribute (`manager[value eq "id"]`): the operation applies when its value matches, and otherwise matched nothing, as with one value of a list.',
    rfc: 'RFC 7644 §3.5.2: a valuePath filters the values of a multi-valued complex attribute; on a singular one it is 400 invalidPath.',
    seenFrom:
      'Microsoft Entra ID removes a manager with `manager[value eq "id"]` (reported to the scim-patch library, issue #453).',
    profiles: on(true, false),
  },
  filterNoMatchAdds: {
    kind: 'leniency',
    scope: ['patch'],
    changes:
      '`add`/`replace` on a value-filter path that matches nothing (`emails[type eq "work"].value`) adds a new value built from the filter\u2019s `eq` terms.',
    rfc: 'RFC 7644 §3.5.2.3: a valuePath with no match SHALL fail with 400 noTarget.',
    seenFrom: 'Microsoft Entra ID (first work email, phone number or address).',
    profiles: on(true, false),
  },
  emptyPatchAccepted: {
    kind: 'leniency',
    scope: ['patch', 'bulk'],
    changes:
      'A PatchOp whose `Operations` is an empty array changes nothing and answers as a PATCH that changed nothing does (200 with the resource, its version unchanged).',
    rfc: 'RFC 7644 §3.5.2: `Operations` is "an array of one or more PATCH operations"; strict answers 400 invalidSyntax.',
    seenFrom:
      "Microsoft's SCIM Validator for Entra ID apps sends a PATCH with no operations (reported to scimmyjs/scimmy #59 and #90).",
    profiles: on(true, false),
  },
  sameIdIgnored: {
    kind: 'leniency',
    scope: ['patch'],
    changes: 'A PATCH value that repeats the resource\u2019s own `id` (unchanged) is ignored instead of refused.',
    rfc: 'RFC 7644 §3.5.2 / RFC 7643 §7: `id` is readOnly; modifying it is 400 mutability.',
    seenFrom: 'Okta (group rename: `{"op":"replace","value":{"id":"<same id>","displayName":"new"}}`).',
    profiles: on(false, true),
  },
  singleValueForMultiValued: {
    kind: 'leniency',
    scope: ['patch'],
    changes: 'A single object given for a multi-valued attribute is read as a one-element array.',
    rfc: 'RFC 7643 §2.4: a multi-valued attribute\u2019s value is a JSON array.',
    seenFrom: 'Several IdPs and scripts (`"value": {"value": "id"}` for members).',
    profiles: on(true, true),
  },
  nullAsAbsent: {
    kind: 'leniency',
    scope: ['patch', 'write', 'bulk'],
    changes:
      '`null` attribute values are read as unassigned: dropped on create/PUT, and in PATCH a null value removes the target.',
    rfc: 'RFC 7643 §2.5 equates null and unassigned; strict refuses it so a client learns it sends nulls.',
    seenFrom: 'Entra ID and Okta send null for unmapped attributes.',
    profiles: on(true, true),
  },
  removeNoMatchSucceeds: {
    kind: 'leniency',
    scope: ['patch'],
    changes: '`remove` with a value filter that matches nothing (an absent member) succeeds as a no-op.',
    rfc: 'RFC 7644 §3.5.2.2 is silent; §3.12 defines noTarget for a filter that yields no match, which strict answers.',
    seenFrom: 'Okta and Entra ID remove members that are already gone.',
    profiles: on(true, true),
  },
  primaryDemotesOthers: {
    kind: 'leniency',
    scope: ['patch'],
    changes:
      'A write that itself gives several values `primary: true` keeps the last of them and sets the others to false, instead of being refused. (Writing one new primary demotes the old one in every profile, as RFC 7644 §3.5.2 requires of PATCH.)',
    rfc: 'RFC 7643 §2.4: `primary: true` MUST appear no more than once.',
    seenFrom: 'Exports and scripts that mark every email of a user primary.',
    profiles: on(true, true),
  },
  strictSchemaValidation: {
    kind: 'strictness',
    scope: ['patch', 'write', 'request'],
    changes:
      'Attributes no schema defines are refused (400 invalidPath / invalidValue) instead of ignored and reported; a POST or PUT body must list in `schemas` its core schema and every extension it fills, and no other, and a POST .search body the SearchRequest URN, no attribute a SearchRequest has not, and `startIndex` and `count` as JSON numbers; a PatchOp or BulkRequest, and each of its operations, no member its message does not define (400 otherwise).',
    rfc: 'RFC 7644 §3.3 lets a service provider ignore attributes it does not know; RFC 7643 §3 makes `schemas` REQUIRED.',
    seenFrom: 'For client authors: catches misspelled attribute names.',
    profiles: { compatible: false, entra: false, okta: false, strict: true },
  },
  contentTypeOptional: {
    kind: 'leniency',
    scope: ['request'],
    changes: 'A request body sent without a `Content-Type` header is read as JSON.',
    rfc: 'RFC 7644 §3.8: clients SHOULD send `application/scim+json`; RFC 9110 §8.3 lets a recipient examine a body that has no Content-Type.',
    seenFrom: "Okta's SCIM 2.0 spec test (Runscope, BlazeMeter) creates users without a Content-Type header.",
    profiles: on(false, true),
  },
  requireIfMatch: {
    kind: 'strictness',
    scope: ['request'],
    changes: 'PUT, PATCH and DELETE without an `If-Match` header are refused with 412.',
    rfc: 'RFC 7644 §3.14: ETags and If-Match are optional for clients.',
    seenFrom: 'For client authors testing optimistic concurrency; off in every profile, enable it per tenant.',
    profiles: { compatible: false, entra: false, okta: false, strict: false },
  },
} as const satisfies Record<string, FlagSpec>;

export type CompatFlagName = keyof typeof COMPAT_FLAG_SPECS;

/** One flag as the console and docs list it. */
export interface CompatFlagDefinition extends FlagSpec {
  readonly name: CompatFlagName;
  /** Its value in the default profile. */
  readonly default: boolean;
}

export const COMPAT_FLAG_NAMES = Object.keys(COMPAT_FLAG_SPECS) as CompatFlagName[];

export const COMPAT_FLAGS: readonly CompatFlagDefinition[] = COMPAT_FLAG_NAMES.map((name) => {
  const spec: FlagSpec = COMPAT_FLAG_SPECS[name];
  return { name, ...spec, default: spec.profiles[DEFAULT_COMPAT_PROFILE] };
});

/** The value of every flag. */
export type CompatFlags = Readonly<Record<CompatFlagName, boolean>>;

export function isCompatProfileName(value: unknown): value is CompatProfileName {
  return typeof value === 'string' && (COMPAT_PROFILES as readonly string[]).includes(value);
}

export function isCompatFlagName(value: unknown): value is CompatFlagName {
  return typeof value === 'string' && Object.hasOwn(COMPAT_FLAG_SPECS, value);
}

/** The flags of a profile, with optional per-tenant overrides on top. */
export function compatFlags(
  profile: CompatProfileName = DEFAULT_COMPAT_PROFILE,
  overrides: Partial<Record<CompatFlagName, boolean>> = {},
): CompatFlags {
  const out = {} as Record<CompatFlagName, boolean>;
  for (const name of COMPAT_FLAG_NAMES) {
    const spec: FlagSpec = COMPAT_FLAG_SPECS[name];
    out[name] = overrides[name] ?? spec.profiles[profile];
  }
  return out;
}
