/**
 * Snapshot format versions. A snapshot written by an older scimdesk is brought up to date step by
 * step when it is read; the next write saves it in the current format. To change the format: bump
 * SNAPSHOT_VERSION in schemas.ts and add the step from the previous version here.
 */
import { SNAPSHOT_VERSION } from './schemas';

type Migration = (data: Record<string, unknown>) => Record<string, unknown>;

/** MIGRATIONS[n] turns a version-n document into a version-(n+1) one. */
const MIGRATIONS: Readonly<Record<number, Migration>> = {
  // Version 1 was the walking skeleton's `{ version, tenants: Tenant[] }` (store.ts), before there
  // was a journal and before tenants held collections.
  1: (data) => ({
    version: 2,
    journalSeq: 0,
    tenants: (Array.isArray(data.tenants) ? data.tenants : []).map((record: unknown) => ({ record, collections: {} })),
  }),
};

/** Returns the document in the current version, or a reason it cannot be. */
export function migrate(data: unknown): { ok: true; data: unknown; from: number } | { ok: false; reason: string } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, reason: 'not an object' };
  let current = data as Record<string, unknown>;
  const start = current.version;
  if (typeof start !== 'number' || !Number.isInteger(start)) return { ok: false, reason: 'no version number' };
  if (start > SNAPSHOT_VERSION) {
    return {
      ok: false,
      reason: `version ${start} was written by a newer scimdesk (this one reads ${SNAPSHOT_VERSION})`,
    };
  }
  for (let version = start; version < SNAPSHOT_VERSION; version++) {
    const step = MIGRATIONS[version];
    if (!step) return { ok: false, reason: `no migration from version ${version}` };
    current = step(current);
  }
  return { ok: true, data: current, from: start };
}
