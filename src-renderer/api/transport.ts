import type { AdminOperationName } from '@shared/contract-ops';
import type { AdminResult } from '@shared/errors';

/** How the client reaches the admin operations: IPC in the desktop app, HTTP in the web console. */
export interface AdminTransport {
  call(op: AdminOperationName, input: unknown): Promise<AdminResult<unknown>>;
}
