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
      scim_tokens: z.number().int(),
    }),
  ),
  requests_last_minute: z.number().int().min(0),
  request_log: z.object({ entries: z.number().int(), bytes: z.number().int(), dropped: z.number().int() }),
});
export type ServerStatus = z.infer<typeof ServerStatus>;
