import { z } from 'zod';

/** What the console's status bar and `GET /api/v1/admin/status` show about the running server. */
export const ServerStatus = z.object({
  version: z.string(),
  url: z.string(),
  started_at: z.iso.datetime(),
  uptime_seconds: z.number().min(0),
  data_dir: z.string(),
  tenants: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      users: z.number().int(),
      groups: z.number().int(),
      /** Every token the tenant holds, revoked and expired ones included. */
      scim_tokens: z.number().int(),
      /** Those a SCIM client can use now (neither revoked nor expired), as endpoint-info's active_tokens. */
      active_scim_tokens: z.number().int(),
    }),
  ),
  requests_last_minute: z.number().int().min(0),
  /**
   * `anonymous_dropped`: requests without a credential the server took, over the rate it logs them
   * at. `write_errors`: failed writes of its files since the start (a full or failing disk; entries
   * are buffered meanwhile, the oldest dropped), `last_error` the latest of them.
   */
  request_log: z.object({
    entries: z.number().int(),
    bytes: z.number().int(),
    dropped: z.number().int(),
    anonymous_dropped: z.number().int(),
    write_errors: z.number().int().min(0),
    last_error: z.string().nullable(),
  }),
  /**
   * The journal since the last snapshot (the store checkpoints it at 64 MiB, and on close), and when
   * the snapshot on disk was written, by this run or before it; null when there is none yet.
   */
  store: z.object({
    journal_bytes: z.number().int().min(0),
    last_checkpoint_at: z.iso.datetime().nullable(),
  }),
  /** Records dropped are changes the history could not keep (a full or failing disk). */
  history: z.object({
    records: z.number().int().min(0),
    bytes: z.number().int().min(0),
    dropped: z.number().int().min(0),
    write_errors: z.number().int().min(0),
    last_error: z.string().nullable(),
  }),
  /** The server process's memory, in bytes. */
  memory: z.object({ rss: z.number().int().min(0), heap_used: z.number().int().min(0) }),
});
export type ServerStatus = z.infer<typeof ServerStatus>;
