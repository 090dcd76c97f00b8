import { z } from 'zod';
import { MAX_PER_PAGE, queryInt } from './paging';

/**
 * Resource history as the admin API shows it (issue #7): a timeline of versions per user or group,
 * any version reconstructed, and the difference between two. `password` values never appear.
 */

export const HistoryResourceKind = z.enum(['User', 'Group']);
export type HistoryResourceKind = z.infer<typeof HistoryResourceKind>;

export const HistoryVersionKind = z.enum(['create', 'change', 'delete']);
export type HistoryVersionKind = z.infer<typeof HistoryVersionKind>;

/** Any JSON value (resources and change values are plain JSON). */
export const JsonValue: z.ZodType<unknown> = z.unknown();

/** One attribute-level change; `path` is a list of object keys (an extension URN is one key). */
export const HistoryChange = z.discriminatedUnion('op', [
  z.object({ op: z.literal('set'), path: z.array(z.string()), value: JsonValue }),
  z.object({ op: z.literal('unset'), path: z.array(z.string()) }),
  z.object({
    op: z.literal('elements'),
    path: z.array(z.string()),
    removed: z.array(z.object({ index: z.number().int().min(0), value: JsonValue })),
    added: z.array(z.object({ index: z.number().int().min(0), value: JsonValue })),
  }),
]);
export type HistoryChange = z.infer<typeof HistoryChange>;

export const HistoryVersion = z.object({
  version: z.number().int().min(1),
  time: z.iso.datetime(),
  kind: HistoryVersionKind,
  /** Who made the change: a token name, "console", "admin"... as the caller said. */
  actor: z.string().nullable(),
  /** The id of the HTTP request that made it (the request log's `request_id`), when there was one. */
  request_id: z.string().nullable(),
  /** That request's entry in the request log (its `seq`), while the log still holds it. */
  request_seq: z.number().int().min(1).nullable(),
  /** Top-level attributes that changed (`meta` left out). */
  attributes: z.array(z.string()),
  flags: z.array(z.string()),
});
export type HistoryVersion = z.infer<typeof HistoryVersion>;

export const HistoryTimelineQuery = z.object({
  tenant_id: z.string().min(1),
  kind: HistoryResourceKind,
  id: z.string().min(1),
  /**
   * Only versions numbered below this. Pages count from the newest version, so a change between
   * two pages shifts them: pin this to the first page's newest version + 1 to page a fixed set.
   */
  before_version: queryInt(1).optional(),
  page: queryInt(1).default(1),
  per_page: queryInt(1, MAX_PER_PAGE).default(50),
});
export type HistoryTimelineQuery = z.infer<typeof HistoryTimelineQuery>;

/** A version with the resource as it was then (`null` for a deletion). */
export const HistoryVersionDetail = HistoryVersion.extend({ resource: z.record(z.string(), JsonValue).nullable() });
export type HistoryVersionDetail = z.infer<typeof HistoryVersionDetail>;

export const HistoryDiff = z.object({
  from: z.number().int().min(1),
  to: z.number().int().min(1),
  changes: z.array(HistoryChange),
});
export type HistoryDiff = z.infer<typeof HistoryDiff>;
