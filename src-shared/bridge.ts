import type { AdminOperationName } from './contract-ops';
import type { AdminResult } from './errors';

/** What the preload exposes as `window.scimdesk` in the desktop app. */
export interface ScimdeskBridge {
  invoke(op: AdminOperationName, input: unknown): Promise<AdminResult<unknown>>;
}
