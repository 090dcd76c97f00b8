import type { ResolvedAttribute } from '@shared/scim/registry';

/**
 * A resource as the SCIM core sees it: plain JSON with attribute names in their schema spelling
 * (the write path canonicalises names, RFC 7643 §2.1), extension attributes under their URN.
 */
export type ResourceData = Readonly<Record<string, unknown>>;

/** Attribute names are case-insensitive (RFC 7643 §2.1): every key of `record` that spells `name`. */
export function keysNamed(record: Readonly<Record<string, unknown>>, name: string): string[] {
  const lower = name.toLowerCase();
  return Object.keys(record).filter((key) => key.toLowerCase() === lower);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object that holds the attribute: the resource itself, or its extension object. */
export function containerOf(resource: ResourceData, resolved: ResolvedAttribute): ResourceData | undefined {
  if (resolved.container === undefined) return resource;
  const ext = resource[resolved.container];
  return isRecord(ext) ? ext : undefined;
}

/** The attribute's stored value (before any sub-attribute step). */
export function attributeValue(resource: ResourceData, resolved: ResolvedAttribute): unknown {
  return containerOf(resource, resolved)?.[resolved.attribute.name];
}

/**
 * RFC 7644 §3.4.2.2 `pr`: "If the attribute has a non-empty value, or if it contains a non-empty
 * node for complex attributes, there is a match." Empty strings, empty arrays and objects whose
 * members are all empty count as absent.
 */
export function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.some(isPresent);
  if (isRecord(value)) return Object.values(value).some(isPresent);
  return true;
}
