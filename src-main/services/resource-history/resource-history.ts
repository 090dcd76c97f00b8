import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@shared/paging';
import { isRequestId } from '@shared/request-log';
import type { HistoryDiff, HistoryResourceKind, HistoryVersion, HistoryVersionDetail } from '@shared/resource-history';
import type { Logger } from '../admin-dispatch';
import { AppendError, SegmentFiles, type Loc, type SegmentIo } from '../request-log/segment-files';
import { FlushTimer, SerialQueue } from '../request-log/serial';
import { runPool } from '../../run-pool';
import { NotWrittenOnCloseError } from '../../store/errors';
import { Interner } from '../interner';
import { applyChangesInPlace, changedAttributes, diffResources, type Change, type Json, type JsonObject } from './diff';
import {
  passwordChanged,
  RecordBody,
  RecordHead,
  RecordRef,
  REDACTED_PASSWORD,
  toHistoryVersion,
  type Track,
  TrackIndex,
  withoutPasswords,
  type VersionEntry,
} from './records';

/**
 * Resource history (issue #7): per user and group, what changed at each version — changes, not
 * copies (see records.ts for when a whole copy is written) — in `<dataDir>/history/`, batched and
 * capped like the request log and sharing its segment files.
 *
 * Caps drop the *oldest segment* first (so the oldest records of every resource). Resources whose
 * later versions survive get a fresh base written for their first surviving version before the
 * segment goes, so every version still listed can be rebuilt. A resource untouched for longer
 * than the retained window loses its history altogether (its current state is in the store).
 */

export interface ResourceHistoryLimits {
  maxRecords: number;
  maxBytes: number;
  segmentBytes: number;
  flushIntervalMs: number;
  flushBytes: number;
  maxBufferedBytes: number;
}

export const DEFAULT_HISTORY_LIMITS: Omit<ResourceHistoryLimits, 'segmentBytes'> = {
  maxRecords: 100_000,
  maxBytes: 256 * 1024 * 1024,
  flushIntervalMs: 200,
  flushBytes: 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
};

/** About the change, from the caller: when, who, which request. */
export interface HistoryMeta {
  time: number;
  actor?: string | null;
  /** The HTTP request that made the change, as the request log names it (http/request-ids.ts). */
  request_id?: string | null;
  /**
   * The version's number: the resource's own revision (meta.version). Without it, or when it does
   * not follow the last version recorded, the next number is used.
   */
  version?: number;
  /** Attribute names the caller knows changed (merged with those the diff finds). */
  attributes?: readonly string[];
  flags?: readonly string[];
  /**
   * The password changed. The caller's documents hold no password (only the service sees its
   * hash), so the diff cannot find this itself; the version then says `set password "[redacted]"`.
   */
  passwordChanged?: boolean;
}

export interface ResourceHistoryOptions {
  dataDir: string;
  log: Logger;
  limits?: Partial<ResourceHistoryLimits>;
  io?: SegmentIo;
}

export interface ResourceHistoryStats {
  resources: number;
  records: number;
  bytes: number;
  segments: number;
  bases: number;
  dropped: number;
  write_errors: number;
  last_error: string | null;
}

export interface ResourceHistory {
  /** Each returns the version recorded (undefined when nothing changed or recording failed); never throws. */
  /** `resourceJson`: JSON.stringify(resource), when the caller has it already (the store's). */
  recordCreate(
    tenant: string,
    kind: HistoryResourceKind,
    resource: JsonObject,
    meta: HistoryMeta,
    resourceJson?: string,
  ): number | undefined;
  recordChange(
    tenant: string,
    kind: HistoryResourceKind,
    id: string,
    before: JsonObject,
    after: JsonObject,
    meta: HistoryMeta,
  ): number | undefined;
  recordDelete(tenant: string, kind: HistoryResourceKind, id: string, meta: HistoryMeta): number | undefined;
  /** Newest first. */
  timeline(
    tenant: string,
    kind: HistoryResourceKind,
    id: string,
    paging: { page: number; per_page: number; before_version?: number | undefined },
  ): Page<HistoryVersion>;
  version(tenant: string, kind: HistoryResourceKind, id: string, n: number): Promise<HistoryVersionDetail | undefined>;
  diff(
    tenant: string,
    kind: HistoryResourceKind,
    id: string,
    from: number,
    to: number,
  ): Promise<HistoryDiff | undefined>;
  purgeTenant(tenant: string): Promise<void>;
  stats(): ResourceHistoryStats;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A new base once this many changes were recorded since the last one and they add up to 1/8 of it. */
const BASE_EVERY_VERSIONS = 50;
const BASE_MIN_BYTES = 4096;
const CLEAN_MARKER = 'clean-shutdown';
/** Resources a caps roll rebuilds at once (their reads overlap on the disk). */
const REBUILDS_IN_FLIGHT = 8;

/** A resource's line in the clean-shutdown marker. */
function trackKey(track: { tenant: string; kind: string; id: string }): string {
  return JSON.stringify([track.tenant, track.kind, track.id]);
}
/** A key withoutPasswords() would redact ends in "password", any ASCII case (no other letter folds to one of these). */
const PASSWORD_IN_TEXT = /password/i;
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');

/** A line this build cannot read (a newer build's, or damage), kept where it is. */
interface UnreadableLine {
  readonly loc: Loc;
  /** Whose it is, when its head says: a purge of that tenant removes it. */
  readonly tenant: string | undefined;
}

/** A second record of a version from the writer of the first (a base the caps copy, a rewrite). */
function sameWriter(entry: VersionEntry, head: Pick<VersionEntry, 'type' | 'time' | 'actor' | 'requestId'>): boolean {
  return (
    entry.type === head.type &&
    entry.time === head.time &&
    entry.actor === head.actor &&
    entry.requestId === head.requestId
  );
}

export async function createResourceHistory(options: ResourceHistoryOptions): Promise<ResourceHistory> {
  const merged = { ...DEFAULT_HISTORY_LIMITS, ...options.limits };
  const limits: ResourceHistoryLimits = {
    ...merged,
    segmentBytes:
      options.limits?.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(merged.maxBytes / 16))),
  };
  const { log } = options;
  const dir = join(options.dataDir, 'history');
  const tracks = new TrackIndex();
  // Versions mostly repeat a few actors and attribute lists (every create names the same ones).
  const interner = new Interner();
  const segmentLive = new Map<number, number>();
  const segmentTracks = new Map<number, Set<Track>>();
  const disk = new SerialQueue();
  const counters = { dropped: 0, writeErrors: 0, bases: 0 };
  let lastError: string | null = null;
  let failing = false;
  let closed = false;
  let liveRecords = 0;
  let pending: RecordRef[] = [];
  let pendingBytes = 0;

  function place(ref: RecordRef, loc: Loc): void {
    ref.segment = loc.segment;
    ref.offset = loc.offset;
    ref.length = loc.length;
    if (ref.removed) return;
    if (ref.line) pendingBytes -= ref.line.length;
    ref.line = undefined;
    segmentLive.set(loc.segment, (segmentLive.get(loc.segment) ?? 0) + 1);
    let set = segmentTracks.get(loc.segment);
    if (!set) segmentTracks.set(loc.segment, (set = new Set()));
    set.add(ref.track);
  }

  function removeRef(ref: RecordRef | undefined): void {
    if (!ref || ref.removed) return;
    ref.removed = true;
    liveRecords--;
    if (ref.written) segmentLive.set(ref.segment, (segmentLive.get(ref.segment) ?? 0) - 1);
    else if (ref.line) pendingBytes -= ref.line.length;
    ref.line = undefined;
  }

  function dropVersions(track: Track, count: number): void {
    for (const entry of track.versions.splice(0, count)) {
      removeRef(entry.change);
      removeRef(entry.base);
    }
    if (track.versions.length === 0) tracks.delete(track);
  }

  // --- start-up ---------------------------------------------------------------------------------
  let corrupt = 0;
  /**
   * Segments holding lines this build cannot read (a newer scimdesk's, or damage): never deleted as
   * empty. With none of their lines live here, the first change after a start removed them, and a
   * downgrade and back lost every version a later build had written in them.
   */
  const unreadable = new Map<number, UnreadableLine[]>();
  /**
   * Segments holding records a later one of the same version replaced, by tenant: dead, but on disk
   * until their segment is rewritten, which a purge of their tenant must do too.
   */
  const displacedIn = new Map<string, Set<number>>();
  const displace = (tenant: string, ref: RecordRef | undefined): void => {
    if (!ref || ref.removed) return;
    if (ref.written) displacedIn.set(tenant, (displacedIn.get(tenant) ?? new Set<number>()).add(ref.segment));
    removeRef(ref);
  };
  const files = await SegmentFiles.open(dir, { segmentBytes: limits.segmentBytes, io: options.io }, (text, loc) => {
    let head: RecordHead;
    try {
      const parsed = RecordHead.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error('not a record');
      head = parsed.data;
    } catch {
      corrupt++;
      let tenant: string | undefined;
      try {
        const value = (JSON.parse(text) as { tenant?: unknown }).tenant;
        if (typeof value === 'string') tenant = value;
      } catch {
        // damage, or no head at all: whose it is cannot be told
      }
      const lines = unreadable.get(loc.segment) ?? [];
      lines.push({ loc: { segment: loc.segment, offset: loc.offset, length: loc.length }, tenant });
      unreadable.set(loc.segment, lines);
      return;
    }
    const track = tracks.open(head.tenant, head.kind, head.id);
    const { at, entry: found } = track.find(head.v);
    const fromHead = {
      type: head.type,
      time: head.time,
      actor: interner.string(head.actor),
      requestId: head.request_id ?? null,
      attrs: interner.list(head.attrs),
      flags: interner.list(head.flags),
    };
    const entry: VersionEntry = found ?? { v: head.v, ...fromHead };
    if (!found) track.versions.splice(at, 0, entry);
    else if (!sameWriter(found, fromHead)) {
      // Another writer's record of this version: an older build numbered its own after lines it
      // could not read. The later one is the version now, whole: the earlier writer's base or
      // change of it would mix two resources' states.
      displace(head.tenant, found.change);
      displace(head.tenant, found.base);
      found.change = undefined;
      found.base = undefined;
      Object.assign(found, fromHead);
    }
    displace(head.tenant, entry[head.role]);
    const ref = new RecordRef(track, entry, head.role, undefined);
    entry[head.role] = ref;
    liveRecords++;
    place(ref, loc);
  });
  if (corrupt > 0) log.warn(`resource history: skipped ${corrupt} unreadable line(s) in ${dir}`);
  // The marker lists the resources whose next change must still be written whole (the buffer
  // bound dropped versions of theirs, or a crash came before their next change): a clean shutdown
  // does not make up for those.
  const marker = await readFile(join(dir, CLEAN_MARKER), 'utf8').catch(() => undefined);
  const cleanStart =
    marker !== undefined &&
    (await rm(join(dir, CLEAN_MARKER)).then(
      () => true,
      () => false,
    ));
  const stale = new Set(marker?.split('\n').filter(Boolean));
  for (const track of tracks.all()) {
    // Versions before the first base (or deletion) cannot be rebuilt: their base was lost.
    const first = track.versions.findIndex((entry) => entry.base || entry.type === 'delete');
    dropVersions(track, first < 0 ? track.versions.length : first);
    // After a crash the last moments of history may be missing, so the next change of each
    // resource cannot be trusted to follow the last version we have: it is written whole.
    track.needsBase = !cleanStart || stale.has(trackKey(track));
    track.lastBaseBytes = BASE_MIN_BYTES;
  }

  // --- recording --------------------------------------------------------------------------------

  function addRecord(
    track: Track,
    entry: VersionEntry,
    role: 'change' | 'base',
    body: object,
    bodyJson = JSON.stringify(body),
    queued = true,
  ): RecordRef {
    // Serialized at once: the entry's shared, frozen lists go in as they are.
    const head: Readonly<Omit<RecordHead, 'attrs' | 'flags'>> & { attrs: readonly string[]; flags: readonly string[] } =
      {
        role,
        tenant: track.tenant,
        kind: track.kind,
        id: track.id,
        v: entry.v,
        type: entry.type,
        time: entry.time,
        actor: entry.actor,
        // Written for builds before 4 December, which require it: without it they read none of
        // this build's records (and deleted the segments as empty).
        request_seq: null,
        request_id: entry.requestId,
        attrs: entry.attrs,
        flags: entry.flags,
      };
    const line = Buffer.from(`${JSON.stringify(head)}\t${bodyJson}\n`, 'utf8');
    const ref = new RecordRef(track, entry, role, line);
    entry[role] = ref;
    if (queued) pending.push(ref);
    pendingBytes += line.length;
    liveRecords++;
    if (role === 'base') {
      counters.bases++;
      if (entry === track.versions.at(-1)) {
        track.lastBaseBytes = Math.max(line.length, BASE_MIN_BYTES);
        track.changeBytesSinceBase = 0;
        track.changesSinceBase = 0;
      }
      // A base the caps rebuild from old records is not the resource's current state: a pending
      // `needsBase` (a version the buffer bound dropped) must stay for the next change.
      if (queued) track.needsBase = false;
    } else {
      track.changeBytesSinceBase += line.length;
      track.changesSinceBase++;
    }
    if (queued) {
      enforceBuffer();
      timer.poke(pendingBytes >= limits.flushBytes);
    }
    return ref;
  }

  /** The write buffer is bounded: the oldest records go, and their resources restart from a base. */
  function enforceBuffer(): void {
    let head = 0;
    while (pendingBytes > limits.maxBufferedBytes && head < pending.length) {
      const ref = pending[head++]!;
      if (ref.removed) continue;
      const track = ref.track;
      // Everything of this resource still unwritten depends on this record: drop it all.
      // From this record's version on: earlier ones are on disk or on their way there (a write in
      // flight, a caps rebase), and later ones are all still queued.
      const from = track.versions.indexOf(ref.version);
      if (from >= 0) {
        for (const entry of track.versions.splice(from)) {
          removeRef(entry.change);
          removeRef(entry.base);
          counters.dropped++;
        }
      }
      track.needsBase = true;
      if (track.versions.length === 0) tracks.delete(track);
    }
    if (head > 0) pending = pending.slice(head);
  }

  function newEntry(
    track: Track,
    type: VersionEntry['type'],
    meta: HistoryMeta,
    attrs: readonly string[],
  ): VersionEntry {
    const last = track.lastVersion;
    const entry: VersionEntry = {
      v: Number.isSafeInteger(meta.version) && (meta.version as number) > last ? (meta.version as number) : last + 1,
      type,
      time: Number.isFinite(meta.time) && meta.time >= 0 && meta.time < MAX_TIME ? meta.time : 0,
      actor: meta.actor == null ? null : interner.string(String(meta.actor)),
      // What start-up will accept back (RecordHead): a positive integer or nothing.
      requestId: isRequestId(meta.request_id) ? meta.request_id : null,
      // `attrs` holds no name twice (every caller's list is made from keys or a set).
      attrs: interner.list(
        meta.attributes?.length ? [...new Set([...attrs, ...meta.attributes])].sort() : [...attrs].sort(),
      ),
      flags: interner.list(meta.flags ?? []),
    };
    track.versions.push(entry);
    return entry;
  }

  function guarded<T>(what: string, job: () => T): T | undefined {
    if (closed) return undefined;
    try {
      return job();
    } catch (error) {
      // History is a record of changes already made: failing to keep it must not fail the change.
      log.error(`resource history: could not record ${what}`, error);
      return undefined;
    }
  }

  // --- reading ----------------------------------------------------------------------------------

  async function readBody(ref: RecordRef): Promise<{ resource?: JsonObject; changes?: Change[] } | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (ref.removed) return undefined;
      const line = ref.line ?? (await files.read({ segment: ref.segment, offset: ref.offset, length: ref.length }));
      if (!line) continue;
      const text = line.toString('utf8');
      const tab = text.indexOf('\t');
      try {
        const head = RecordHead.parse(JSON.parse(text.slice(0, tab)));
        if (
          head.tenant !== ref.track.tenant ||
          head.kind !== ref.track.kind ||
          head.id !== ref.track.id ||
          head.v !== ref.version.v ||
          head.role !== ref.role
        )
          continue;
        const body = RecordBody.safeParse(JSON.parse(text.slice(tab + 1)));
        // What the schema admits is JSON (it came from JSON.parse): the diff's types say so.
        return body.success ? (body.data as { resource?: JsonObject; changes?: Change[] }) : undefined;
      } catch {
        continue;
      }
    }
    return undefined;
  }

  /** The resource at version `v`: the nearest base at or before it, plus the changes after. */
  async function rebuild(track: Track, v: number): Promise<JsonObject | null | undefined> {
    const { at, entry } = track.find(v);
    if (!entry) return undefined;
    if (entry.type === 'delete') return null;
    let start = at;
    while (start >= 0 && !track.versions[start]!.base) start--;
    if (start < 0) return undefined;
    // Taken before the first read: while it waits, the caps may drop this resource's oldest
    // versions (shifting the list). A record dropped meanwhile reads as gone (readBody), and so
    // does the version.
    const [first, ...changes] = track.versions.slice(start, at + 1);
    const base = await readBody(first!.base!);
    if (!base?.resource) return undefined;
    const resource = base.resource;
    for (const { change } of changes) {
      const body = change ? await readBody(change) : undefined;
      if (!body?.changes) return undefined;
      applyChangesInPlace(resource, body.changes);
    }
    return resource;
  }

  // --- disk jobs --------------------------------------------------------------------------------

  function reportError(what: string, error: unknown): void {
    counters.writeErrors++;
    lastError = `${what}: ${error instanceof Error ? error.message : String(error)}`;
    if (!failing) log.error(`resource history: writing failed (${lastError})`);
    failing = true;
  }

  /**
   * Drops the oldest segment. Each resource with records in it loses every version up to its
   * last record there; if later versions remain, the first of them gets a fresh base first.
   */
  async function dropOldestSegment(): Promise<void> {
    const segment = files.segments[0]!.id;
    if (files.activeId === segment) await files.seal();
    const rebased: RecordRef[] = [];
    // Records of dropped versions kept in other segments (rare: see keepFrom) must leave the disk
    // too, or a restart brings those versions back.
    const elsewhere = new Set<number>();
    // Each resource is handled on its own (its rebuild reads only its own records), so several
    // rebuilds wait on the disk at once: one at a time, a roll under churn cost ~130 µs a change.
    const holding = [...(segmentTracks.get(segment) ?? [])];
    let failure: { error: unknown } | undefined;
    await runPool(holding.length, REBUILDS_IN_FLIGHT, async (at) => {
      const track = holding[at]!;
      const inSegment = (ref: RecordRef | undefined) => ref !== undefined && !ref.removed && ref.segment === segment;
      let last = -1;
      track.versions.forEach((entry, i) => {
        if (inSegment(entry.change) || inSegment(entry.base)) last = i;
      });
      if (last < 0) return;
      // Versions from one that stands alone outside this segment (a base an earlier drop wrote, or
      // a deletion) on still rebuild, if each later one up to `last` keeps a record elsewhere: the
      // earliest such version is kept. Dropping it would leave its base behind on disk.
      const survives = (ref: RecordRef | undefined) => ref !== undefined && !ref.removed && ref.segment !== segment;
      let keepFrom = last + 1;
      for (let i = last, chain = true; i >= 0 && chain; i--) {
        const entry = track.versions[i]!;
        if (survives(entry.base) || (entry.type === 'delete' && survives(entry.change))) keepFrom = i;
        chain = survives(entry.base) || survives(entry.change);
      }
      const next = track.versions[keepFrom];
      if (keepFrom === last + 1 && next && !next.base && next.type !== 'delete') {
        const resource = await rebuild(track, next.v);
        // A purge may have dropped the resource's versions during the reads: then nothing of it
        // may be written back.
        if (resource && track.versions[keepFrom] === next) rebased.push(addRecordUnqueued(track, next, resource));
      }
      for (const entry of track.versions.slice(0, keepFrom)) {
        for (const ref of [entry.change, entry.base]) {
          if (ref?.written && !ref.removed && ref.segment !== segment) elsewhere.add(ref.segment);
        }
      }
      dropVersions(track, keepFrom);
      // Kept versions lose their records in this segment (they rebuild from the others).
      for (const entry of track.versions.slice(0, last + 1 - keepFrom)) {
        for (const role of ['change', 'base'] as const) {
          if (inSegment(entry[role])) {
            removeRef(entry[role]);
            entry[role] = undefined;
          }
        }
      }
    }).catch((error: unknown) => (failure = { error }));
    // A purge while other resources were rebuilt may have dropped a base made before it. The bases
    // made are written even when one rebuild failed: their resources have dropped the versions
    // they replace.
    const bases = rebased.filter((ref) => !ref.removed);
    if (bases.length > 0) {
      const locs = await files.append(bases.map((ref) => ref.line as Buffer));
      bases.forEach((ref, i) => place(ref, locs[i] as Loc));
    }
    if (failure) throw failure.error;
    await files.remove(segment);
    segmentLive.delete(segment);
    segmentTracks.delete(segment);
    unreadable.delete(segment); // the caps' eviction, of what this build reads or not
    for (const other of elsewhere) await rewriteLive(other);
  }

  /**
   * Rewrites a segment keeping only its live records, and the lines this build cannot read but
   * those of a purged tenant.
   */
  async function rewriteLive(segment: number, purgedTenant?: string): Promise<void> {
    const kept = (unreadable.get(segment) ?? []).filter(
      (line) => purgedTenant === undefined || line.tenant !== purgedTenant,
    );
    const keep: Loc[] = kept.map((line) => line.loc);
    const holding = new Set<Track>();
    for (const track of segmentTracks.get(segment) ?? []) {
      for (const entry of track.versions) {
        for (const ref of [entry.change, entry.base]) {
          if (ref && !ref.removed && ref.segment === segment) {
            keep.push(ref);
            holding.add(track);
          }
        }
      }
    }
    keep.sort((a, b) => a.offset - b.offset);
    // The new places must be known as soon as the rewritten file replaces the old one.
    await files.rewrite(segment, keep, (locs) =>
      keep.forEach((ref, i) => {
        const loc = locs[i];
        if (loc) ref.offset = loc.offset;
      }),
    );
    if (kept.length > 0) unreadable.set(segment, kept);
    else unreadable.delete(segment);
    if (keep.length === 0) {
      segmentLive.delete(segment);
      segmentTracks.delete(segment);
    } else segmentTracks.set(segment, holding);
  }

  /** A base record written directly by a disk job (not through the buffer). */
  function addRecordUnqueued(track: Track, entry: VersionEntry, resource: JsonObject): RecordRef {
    return addRecord(track, entry, 'base', { resource }, undefined, false);
  }

  async function enforceCaps(incomingBytes: number): Promise<void> {
    for (let rounds = files.segments.length; rounds > 0 && files.segments.length > 0; rounds--) {
      if (files.totalBytes + incomingBytes <= limits.maxBytes && liveRecords <= limits.maxRecords) return;
      await dropOldestSegment();
    }
  }

  async function collectSegments(): Promise<void> {
    for (const info of [...files.segments]) {
      if (
        info.id !== files.activeId &&
        (segmentLive.get(info.id) ?? 0) <= 0 &&
        (unreadable.get(info.id)?.length ?? 0) === 0
      ) {
        await files.remove(info.id);
        segmentLive.delete(info.id);
        segmentTracks.delete(info.id);
      }
    }
  }

  async function writeBatch(): Promise<void> {
    const batch = pending.filter((ref) => !ref.removed && ref.line);
    pending = [];
    if (batch.length === 0) return;
    try {
      await enforceCaps(batch.reduce((sum, ref) => sum + (ref.line?.length ?? 0), 0));
      const written = batch.filter((ref) => ref.line);
      try {
        const locs = await files.append(written.map((ref) => ref.line as Buffer));
        written.forEach((ref, i) => place(ref, locs[i] as Loc));
      } catch (error) {
        if (error instanceof AppendError) error.written.forEach((loc, i) => place(written[i] as RecordRef, loc));
        throw error;
      }
      await collectSegments();
      if (failing) log.info('resource history: writing works again');
      failing = false;
    } catch (error) {
      reportError('segment write', error);
      pending = [...batch.filter((ref) => !ref.removed && !ref.written), ...pending];
      enforceBuffer();
      timer.poke(false);
    }
  }

  const flush = (): Promise<void> => disk.run(writeBatch);
  const timer = new FlushTimer(limits.flushIntervalMs, () => void flush());

  // --- the service ------------------------------------------------------------------------------

  return {
    recordCreate(tenant, kind, resource, meta, resourceJson) {
      return guarded('a creation', () => {
        // The caller's serialization (JSON.stringify's, which escapes no letter) names every key
        // as it is: without "password" in it, no key can be one, and the walk is skipped.
        const clean =
          resourceJson !== undefined && !PASSWORD_IN_TEXT.test(resourceJson)
            ? resource
            : (withoutPasswords(resource) as JsonObject);
        if (typeof clean['id'] !== 'string') throw new Error('a resource without an id');
        const track = tracks.open(tenant, kind, clean['id']);
        const entry = newEntry(
          track,
          'create',
          meta,
          Object.keys(clean).filter((name) => name !== 'meta'),
        );
        // Without passwords to take out, the record's body is the caller's serialization.
        const bodyJson = resourceJson !== undefined && clean === resource ? `{"resource":${resourceJson}}` : undefined;
        addRecord(track, entry, 'base', { resource: clean }, bodyJson);
        return entry.v;
      });
    },

    recordChange(tenant, kind, id, before, after, meta) {
      return guarded('a change', () => {
        const cleanBefore = withoutPasswords(before) as JsonObject;
        const cleanAfter = withoutPasswords(after) as JsonObject;
        const changes = diffResources(cleanBefore, cleanAfter);
        // Both sides read "[redacted]": say that the password changed, never what it was.
        const newPassword = meta.passwordChanged === true || passwordChanged(before as Json, after as Json);
        if (newPassword && !changes.some((c) => c.path[0] === 'password')) {
          changes.push({ op: 'set', path: ['password'], value: REDACTED_PASSWORD });
        }
        if (changes.length === 0 && !meta.attributes?.length && !meta.flags?.length) return undefined;
        const track = tracks.open(tenant, kind, id);
        const last = track.versions.at(-1);
        const entry = newEntry(track, 'change', meta, changedAttributes(changes));
        // A gap in the numbers means versions in between were never recorded: `before` is not the
        // last version this history holds, so a change against it would rebuild a wrong state.
        const gap = last !== undefined && entry.v !== last.v + 1;
        if (!last || last.type === 'delete' || track.needsBase || gap) {
          addRecord(track, entry, 'base', { resource: cleanAfter });
          return entry.v;
        }
        addRecord(track, entry, 'change', { changes });
        // Over the buffer bound, this very version may have gone already: no base for it then.
        if (entry.change?.removed) return undefined;
        // Bases never outgrow the changes they save replaying: history stays linear in the changes.
        if (
          track.changeBytesSinceBase >= track.lastBaseBytes ||
          (track.changesSinceBase >= BASE_EVERY_VERSIONS && track.changeBytesSinceBase * 8 >= track.lastBaseBytes)
        ) {
          addRecord(track, entry, 'base', { resource: cleanAfter });
        }
        return entry.v;
      });
    },

    recordDelete(tenant, kind, id, meta) {
      return guarded('a deletion', () => {
        const track = tracks.open(tenant, kind, id);
        const entry = newEntry(track, 'delete', meta, []);
        addRecord(track, entry, 'change', {});
        return entry.v;
      });
    },

    timeline(tenant, kind, id, { page, per_page, before_version }) {
      const versions = tracks.get(tenant, kind, id)?.versions ?? [];
      // Versions are kept in ascending order: those below `before_version` are a prefix.
      let count = versions.length;
      if (before_version !== undefined) while (count > 0 && versions[count - 1]!.v >= before_version) count--;
      const end = count - (page - 1) * per_page;
      const items: HistoryVersion[] = [];
      for (let i = end - 1; i >= Math.max(0, end - per_page); i--) items.push(toHistoryVersion(versions[i]!));
      return { items, total: count, page, per_page };
    },

    async version(tenant, kind, id, n) {
      const track = tracks.get(tenant, kind, id);
      const entry = track?.find(n).entry;
      if (!track || !entry) return undefined;
      const resource = await rebuild(track, n);
      if (resource === undefined) return undefined;
      return { ...toHistoryVersion(entry), resource: resource as Record<string, unknown> | null };
    },

    async diff(tenant, kind, id, from, to) {
      const track = tracks.get(tenant, kind, id);
      if (!track) return undefined;
      const [a, b] = await Promise.all([rebuild(track, from), rebuild(track, to)]);
      if (a === undefined || b === undefined) return undefined;
      let changes = diffResources(a ?? {}, b ?? {});
      // Versions show a password only as "[redacted]", and those written before they showed it
      // at all have none: what a diff says of the password comes from the versions that changed
      // it. None between the two: nothing. Some: "set" when the target has one (a new password
      // reads "[redacted]" on both sides), else the diff's own "unset", if any. A deleted side (null)
      // has no password, as it has nothing else: the diff to it unsets it with the rest.
      const [low, high] = from <= to ? [from, to] : [to, from];
      const touched =
        a === null ||
        b === null ||
        track.versions.some((e) => e.v > low && e.v <= high && e.attrs.includes('password'));
      const aboutPassword = (c: { path: readonly unknown[] }) => c.path[0] === 'password';
      if (!touched) changes = changes.filter((c) => !aboutPassword(c));
      else if (!changes.some(aboutPassword) && b?.['password'] !== undefined) {
        changes.push({ op: 'set', path: ['password'], value: REDACTED_PASSWORD });
      }
      return { from, to, changes };
    },

    async purgeTenant(tenant) {
      const purged: RecordRef[] = [];
      for (const track of tracks.ofTenant(tenant)) {
        for (const entry of track.versions) {
          for (const ref of [entry.change, entry.base]) if (ref) purged.push(ref);
        }
        // Left without versions, the track leaves the index too.
        dropVersions(track, track.versions.length);
      }
      await disk.run(async () => {
        // Where the records went is known only now: a write in flight when the purge began has
        // put some of them on disk meanwhile (removed, but with their places set).
        const touched = new Set(purged.filter((ref) => ref.written).map((ref) => ref.segment));
        // Its lines this build cannot read go too, and its records a later one replaced: a deleted
        // tenant leaves nothing on disk.
        for (const [segment, lines] of unreadable) {
          if (lines.some((line) => line.tenant === tenant)) touched.add(segment);
        }
        for (const segment of displacedIn.get(tenant) ?? []) {
          if (files.segments.some((info) => info.id === segment)) touched.add(segment);
        }
        displacedIn.delete(tenant);
        for (const segment of touched) await rewriteLive(segment, tenant);
      });
    },

    stats() {
      return {
        resources: tracks.size,
        records: liveRecords,
        bytes: files.totalBytes + pendingBytes,
        segments: files.segments.length,
        bases: counters.bases,
        dropped: counters.dropped,
        write_errors: counters.writeErrors,
        last_error: lastError,
      };
    },

    flush,

    async close() {
      if (closed) return;
      closed = true;
      timer.stop();
      await flush();
      await disk.idle();
      await files.close();
      if (pending.length === 0) {
        const stale = tracks.all().filter((track) => track.needsBase);
        const text = stale.map((track) => `${trackKey(track)}\n`).join('');
        await writeFile(join(dir, CLEAN_MARKER), text, { mode: 0o600 }).catch(() => undefined);
      } else {
        const unwritten = pending.length;
        throw NotWrittenOnCloseError.lost(unwritten, 'resource history record', 'resource history records', lastError);
      }
    },
  };
}
