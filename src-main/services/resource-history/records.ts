import { z } from 'zod';
import { MAX_REQUEST_ID_LENGTH } from '@shared/request-log';
import {
  HistoryChange,
  HistoryResourceKind,
  HistoryVersionKind,
  JsonValue,
  type HistoryVersion,
} from '@shared/resource-history';
import type { Json, JsonObject } from './diff';

/**
 * The resource history's records and in-memory index.
 *
 * On disk each record is a line `<head>\t<body>\n` (see request-log/segment-files.ts). Heads are
 * indexed at start; bodies are read back only to rebuild a version. Two roles:
 * - `change`: the version's attribute-level changes (body `{changes}`), or nothing for a delete;
 * - `base`: the whole resource at that version (body `{resource}`): written at creation, when the
 *   changes since the previous base add up to a sizeable part of the resource (so bases never
 *   outgrow the changes: history stays linear), and when the caps drop the records a version
 *   depended on.
 */

export const RecordHead = z.object({
  role: z.enum(['change', 'base']),
  tenant: z.string(),
  kind: HistoryResourceKind,
  id: z.string(),
  v: z.number().int().min(1),
  type: HistoryVersionKind,
  time: z.number(),
  actor: z.string().nullable(),
  /**
   * Unused since 4 December (the request log's seq is looked up by `request_id`), and written as
   * null: the builds before require it, and read no record without it.
   */
  request_seq: z.number().nullable().optional(),
  /** The HTTP request that made the version (see http/request-ids.ts); absent in older records. */
  request_id: z.string().min(1).max(MAX_REQUEST_ID_LENGTH).nullable().optional(),
  attrs: z.array(z.string()),
  flags: z.array(z.string()),
});
export type RecordHead = z.infer<typeof RecordHead>;

/**
 * A record's body as read back: a base's whole resource, a change's changes. Segment lines carry no
 * checksum, and one damaged into other JSON made a version's read throw (a 500) instead of reading
 * as gone.
 */
export const RecordBody = z.object({
  resource: z.record(z.string(), JsonValue).optional(),
  changes: z.array(HistoryChange).optional(),
});

/** Where one record is: in the write buffer (`line`) or on disk. */
export class RecordRef {
  removed = false;
  segment = -1;
  offset = 0;
  length = 0;
  constructor(
    readonly track: Track,
    readonly version: VersionEntry,
    readonly role: 'change' | 'base',
    public line: Buffer | undefined,
  ) {}

  get written(): boolean {
    return this.segment >= 0;
  }
}

export interface VersionEntry {
  v: number;
  type: z.infer<typeof HistoryVersionKind>;
  time: number;
  actor: string | null;
  requestId: string | null;
  attrs: readonly string[];
  flags: readonly string[];
  change?: RecordRef;
  base?: RecordRef;
}

/** One resource's history. */
export class Track {
  versions: VersionEntry[] = [];
  /** Bytes of change records since the last base, and the size of that base: the snapshot rule. */
  changeBytesSinceBase = 0;
  changesSinceBase = 0;
  lastBaseBytes = 0;
  /** Set when records this resource depends on were lost (buffer overflow): the next one is a base. */
  needsBase = false;

  constructor(
    readonly tenant: string,
    readonly kind: z.infer<typeof HistoryResourceKind>,
    readonly id: string,
  ) {}

  get lastVersion(): number {
    return this.versions.at(-1)?.v ?? 0;
  }

  /** The entry for version `v`, or where to insert it (binary search: versions are ascending). */
  find(v: number): { at: number; entry: VersionEntry | undefined } {
    let low = 0;
    let high = this.versions.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.versions[mid]!.v < v) low = mid + 1;
      else high = mid;
    }
    const entry = this.versions[low];
    return { at: low, entry: entry?.v === v ? entry : undefined };
  }
}

/**
 * The tracks, by tenant, kind and id. Not by one joined key: the tenant ids and resource ids are
 * strings the store has hashed already (V8 keeps a string's hash), where a joined key is a new
 * string to build, hash and keep for every resource (~1.5 µs per record, and ~100 bytes each).
 */
export class TrackIndex {
  private readonly byTenant = new Map<string, Record<HistoryResourceKind, Map<string, Track>>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(tenant: string, kind: HistoryResourceKind, id: string): Track | undefined {
    return this.byTenant.get(tenant)?.[kind].get(id);
  }

  /** The resource's track, made (empty) if it has none. */
  open(tenant: string, kind: HistoryResourceKind, id: string): Track {
    let kinds = this.byTenant.get(tenant);
    if (!kinds) this.byTenant.set(tenant, (kinds = { User: new Map(), Group: new Map() }));
    let track = kinds[kind].get(id);
    if (!track) {
      kinds[kind].set(id, (track = new Track(tenant, kind, id)));
      this.count++;
    }
    return track;
  }

  /** Removes this track (a stale one, replaced since by a new track of the resource, stays out). */
  delete(track: Track): void {
    const kinds = this.byTenant.get(track.tenant);
    if (kinds?.[track.kind].get(track.id) !== track) return;
    kinds[track.kind].delete(track.id);
    this.count--;
    if (kinds.User.size === 0 && kinds.Group.size === 0) this.byTenant.delete(track.tenant);
  }

  /** A copy, so that the caller may delete while it walks. */
  all(): Track[] {
    const out: Track[] = [];
    for (const kinds of this.byTenant.values()) out.push(...kinds.User.values(), ...kinds.Group.values());
    return out;
  }

  /** The tenant's tracks, a copy. */
  ofTenant(tenant: string): Track[] {
    const kinds = this.byTenant.get(tenant);
    return kinds ? [...kinds.User.values(), ...kinds.Group.values()] : [];
  }
}

export function toHistoryVersion(entry: VersionEntry): HistoryVersion {
  return {
    version: entry.v,
    time: new Date(entry.time).toISOString(),
    kind: entry.type,
    actor: entry.actor,
    request_id: entry.requestId,
    // Filled by whoever can ask the request log (admin-handlers.ts): the history does not know it.
    request_seq: null,
    attributes: [...entry.attrs],
    flags: [...entry.flags],
  };
}

export const REDACTED_PASSWORD = '[redacted]';

/** `password`, any case, alone or as the last segment of `urn:...:password` / `a.password`. */
function isPasswordKey(key: string): boolean {
  const n = key.length;
  // Called for every key of every member of a large group: reject without allocating first.
  if (n < 8 || (key.charCodeAt(n - 8) | 0x20) !== 0x70) return false;
  if (key.slice(n - 8).toLowerCase() !== 'password') return false;
  return n === 8 || key[n - 9] === ':' || key[n - 9] === '.';
}

/**
 * The value without `password` values (at any depth, any case, URN-qualified too): history never
 * holds them. Copy-on-write: parts without a password are returned as they are, so a 10,000-member
 * group costs one walk, and unchanged members stay the same objects (which the diff compares first).
 */
export function withoutPasswords(value: Json): Json {
  return holdsPassword(value) ? redactPasswords(value) : value;
}

/**
 * Values seen to hold no password key, among those frozen all the way down (stored documents are):
 * a PATCH of a 50,000-member group walked its members four times for passwords they cannot change,
 * 13 ms of each. The stored `before` was the last change's `after`, and the new `after` shares its
 * member objects, so each walk is one lookup per changed part.
 */
const passwordFree = new WeakSet<object>();

/** Whether a password key is anywhere in `value`. */
function holdsPassword(value: Json): boolean {
  return scanForPassword(value) === Scan.Holds;
}

const enum Scan {
  /** No password, and frozen all the way down: remembered. */
  FreeForGood,
  /** No password now; something in it could still change. */
  Free,
  Holds,
}

function scanForPassword(value: Json): Scan {
  if (value === null || typeof value !== 'object') return Scan.FreeForGood;
  if (passwordFree.has(value)) return Scan.FreeForGood;
  let result = Object.isFrozen(value) ? Scan.FreeForGood : Scan.Free;
  if (Array.isArray(value)) {
    for (const item of value) {
      const inner = scanForPassword(item as Json);
      if (inner === Scan.Holds) return Scan.Holds;
      if (inner === Scan.Free) result = Scan.Free;
    }
  } else {
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      if (isPasswordKey(key)) return Scan.Holds;
      const inner = scanForPassword(value[key] as Json);
      if (inner === Scan.Holds) return Scan.Holds;
      if (inner === Scan.Free) result = Scan.Free;
    }
  }
  if (result === Scan.FreeForGood) passwordFree.add(value);
  return result;
}

function redactPasswords(value: Json): Json {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: Json[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as Json;
      const safe = redactPasswords(item);
      if (safe !== item && !copy) copy = value.slice(0, i);
      copy?.push(safe);
    }
    return copy ?? value;
  }
  let copy: JsonObject | undefined;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = value[key] as Json;
    const safe = isPasswordKey(key) ? REDACTED_PASSWORD : redactPasswords(item);
    if (safe !== item && !copy) {
      copy = {};
      for (const earlier of keys.slice(0, i)) setOwn(copy, earlier, value[earlier] as Json);
    }
    if (copy) setOwn(copy, key, safe);
  }
  return copy ?? value;
}

function setOwn(target: JsonObject, key: string, value: Json): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** The password values inside `value`, serialized (usually none: no allocation then). */
function passwordValues(value: Json, out: string[]): string[] {
  return holdsPassword(value) ? collectPasswordValues(value, out) : out;
}

function collectPasswordValues(value: Json, out: string[]): string[] {
  if (value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    for (const item of value) collectPasswordValues(item, out);
    return out;
  }
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (isPasswordKey(key)) out.push(JSON.stringify(value[key]));
    else collectPasswordValues(value[key] as Json, out);
  }
  return out;
}

/** Did any password value change between the two (they compare equal once redacted)? */
export function passwordChanged(before: Json, after: Json): boolean {
  return passwordValues(before, []).join('\u0000') !== passwordValues(after, []).join('\u0000');
}
