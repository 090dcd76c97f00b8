import { z } from 'zod';

/** What DELETE on a SCIM resource does in this tenant (DESIGN.md §3). */
export const DeleteMode = z.enum(['delete', 'deactivate']);
export type DeleteMode = z.infer<typeof DeleteMode>;

export const Tenant = z.object({
  id: z.string().min(1),
  name: z.string().min(1).max(200),
  created_at: z.iso.datetime(),
  delete_mode: DeleteMode,
});
export type Tenant = z.infer<typeof Tenant>;
