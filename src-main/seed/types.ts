import type { SeedDirectory } from './generator';
import type { FailureLog } from './outcomes';
import type { SeedHttp } from './http';

export type SeedMode = 'bulk' | 'post';

export interface SeedProgress {
  readonly phase: 'users' | 'groups';
  readonly mode: SeedMode;
  /** Users and groups answered so far (created or failed). */
  readonly done: number;
  readonly total: number;
  readonly failed: number;
}

export interface BulkLimits {
  readonly maxOperations: number;
  readonly maxPayloadSize: number;
}

/** What both loading strategies share while they run. */
export interface LoadContext {
  readonly http: SeedHttp;
  readonly directory: SeedDirectory;
  readonly organization: string;
  readonly concurrency: number;
  /** Server ids by user index, filled as creates succeed. */
  readonly userIds: (string | undefined)[];
  readonly failures: FailureLog;
  readonly counts: { usersCreated: number; groupsCreated: number; memberships: number; droppedReferences: number };
  readonly progress: (phase: SeedProgress['phase']) => void;
  readonly signal?: AbortSignal;
  /** Set on the first fatal error (401/403, unreachable server): everyone stops sending. */
  fatal?: unknown;
}

/** Whether another request may be sent: not after a fatal error, nor once the run was asked to stop. */
export function mayContinue(ctx: LoadContext): boolean {
  return ctx.fatal === undefined && ctx.signal?.aborted !== true;
}
