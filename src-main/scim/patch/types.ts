import type { CompatFlagName } from '@shared/scim/compat-flags';

/** RFC 7644 §3.5.2: the three operations, after case normalisation. */
export type PatchOpName = 'add' | 'remove' | 'replace';

/** One validated PATCH operation, as `parsePatchRequest` returns it. */
export interface PatchOperation {
  readonly op: PatchOpName;
  /** The raw path text; undefined when the operation has none (or `"path": null`). */
  readonly path?: string;
  /** The raw value; check `hasValue` to tell an absent value from `"value": null`. */
  readonly value?: unknown;
  readonly hasValue: boolean;
}

/**
 * What one attribute looked like before and after a PATCH, for the request log's explanations and
 * the resource history. Multi-valued attributes report only the values added and removed, so a
 * 10,000-member group's history grows by the change, not by a copy (DESIGN.md §4).
 * Attributes that are never returned (`password`) are reported as changed without their values.
 */
export interface AttributeChange {
  /** `displayName`, `name`, `members`, or `urn:...:enterprise:2.0:User:manager` for extensions. */
  readonly attribute: string;
  readonly multiValued: boolean;
  /** Singular attributes: the values (absent = unassigned). Omitted when `redacted`. */
  readonly before?: unknown;
  readonly after?: unknown;
  /** Multi-valued attributes: values that appeared / disappeared (compared by content). */
  readonly added?: readonly unknown[];
  readonly removed?: readonly unknown[];
  readonly redacted?: true;
}

/** Something a PATCH named but left alone, and why (unknown attributes, derived or readOnly values). */
export interface IgnoredTarget {
  readonly operation: number;
  readonly target: string;
  readonly reason: string;
}

export interface PatchResult {
  /** A new object; the input resource is never modified. `meta` is left to the service. */
  readonly resource: Record<string, unknown>;
  /** Attributes whose value changed, in first-touched order (see AttributeChange.attribute). */
  readonly changed: readonly string[];
  readonly changes: readonly AttributeChange[];
  /** Compatibility flags that changed how the request was read (registry order). */
  readonly fired: readonly CompatFlagName[];
  readonly ignored: readonly IgnoredTarget[];
}
