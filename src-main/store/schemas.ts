/**
 * Validation of what the store reads back from disk (STYLE.md: never trust the JSON on disk).
 * Objects are loose: the store checks the fields its indexes rely on and carries the rest as opaque
 * JSON. Values come from JSON.parse, so everything unchecked is JSON by construction; that is why the
 * parsed results may be narrowed to the document types below.
 */
import { z } from 'zod';
import type { ChangeOp, CollectionDocs, JournalRecord, TenantRecord } from './documents';

const id = z.string().min(1);

const Email = z.looseObject({ value: z.string().optional() });
const Member = z.looseObject({ value: z.string(), type: z.string().optional(), display: z.string().optional() });

export const DocSchemas = {
  users: z.looseObject({
    id,
    userName: z.string(),
    externalId: z.string().optional(),
    emails: z.array(Email).optional(),
  }),
  groups: z.looseObject({
    id,
    displayName: z.string(),
    externalId: z.string().optional(),
    members: z.array(Member).optional(),
  }),
  scimTokens: z.looseObject({
    id,
    tenant_id: z.string(),
    name: z.string(),
    token_hash: z.string(),
    token_prefix: z.string(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  }),
  settings: z.looseObject({ id }),
} satisfies Record<keyof CollectionDocs, z.ZodType>;

export const TenantRecordSchema = z.looseObject({
  id,
  name: z.string().min(1),
  created_at: z.string(),
  delete_mode: z.enum(['delete', 'deactivate']),
});

const collectionName = z.enum(['users', 'groups', 'scimTokens', 'settings']);

export const SNAPSHOT_VERSION = 2;

export const SnapshotSchema = z.object({
  version: z.literal(SNAPSHOT_VERSION),
  /** The last journal sequence number whose changes this snapshot contains. */
  journalSeq: z.int().nonnegative(),
  tenants: z.array(
    z.object({
      record: TenantRecordSchema,
      collections: z.object({
        users: z.array(DocSchemas.users).optional(),
        groups: z.array(DocSchemas.groups).optional(),
        scimTokens: z.array(DocSchemas.scimTokens).optional(),
        settings: z.array(DocSchemas.settings).optional(),
      }),
    }),
  ),
});

/** The snapshot document as lowdb holds it and as it is written to `db.json`. */
export interface SnapshotData {
  version: number;
  journalSeq: number;
  tenants: SnapshotTenant[];
}
export interface SnapshotTenant {
  record: TenantRecord;
  collections: { [C in keyof CollectionDocs]?: CollectionDocs[C][] };
}

/**
 * Any object with a non-empty string id, as `z.looseObject({ id })` would accept, but checked in
 * place instead of copied: the document is checked in full for its collection when it is applied
 * (`checkDoc`), and a copy here was one more walk of every document on the create path (issue #8).
 */
const Doc = z.custom<{ id: string }>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { id?: unknown }).id === 'string' &&
    (value as { id: string }).id.length > 0,
  { message: 'expected an object with a non-empty string id' },
);

const ChangeOpSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('tenant.put'), tenant: TenantRecordSchema }),
  z.object({ op: z.literal('tenant.delete'), tenant: id }),
  z.object({ op: z.literal('put'), tenant: id, collection: collectionName, id, doc: Doc }),
  z.object({ op: z.literal('delete'), tenant: id, collection: collectionName, id }),
  z.object({
    op: z.literal('merge'),
    tenant: id,
    collection: collectionName,
    id,
    set: z.record(z.string(), z.json()),
    unset: z.array(z.string()),
  }),
  z.object({ op: z.literal('members'), tenant: id, group: id, add: z.array(Member), remove: z.array(z.string()) }),
]);

export const JournalRecordSchema = z.object({ seq: z.int().positive(), ops: z.array(ChangeOpSchema) });

/**
 * Checks a change before it is applied, with the same schema replay uses: anything the live path
 * accepts, a restart can replay.
 */
export function parseChangeOp(value: unknown): { ok: true; op: ChangeOp } | { ok: false; reason: string } {
  const parsed = ChangeOpSchema.safeParse(value);
  return parsed.success
    ? { ok: true, op: parsed.data as ChangeOp }
    : { ok: false, reason: describeIssue(parsed.error) };
}

/** Parses a journal record; the documents inside `put` are checked against their collection on apply. */
export function parseJournalRecord(value: unknown): JournalRecord | undefined {
  const parsed = JournalRecordSchema.safeParse(value);
  return parsed.success ? (parsed.data as JournalRecord) : undefined;
}

/** First issue of a failed parse, as `path: message`, for error messages that name the place. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}
