import { z } from 'zod';

/** `POST /api/v1/admin/session`: the headless console trades its one-time code for an admin token. */
export const SessionRequest = z.strictObject({ code: z.string().min(1).max(200) });
export const SessionResponse = z.object({ token: z.string(), expires_at: z.iso.datetime() });
export type SessionResponse = z.infer<typeof SessionResponse>;

export const ADMIN_BASE_PATH = '/api/v1/admin';
