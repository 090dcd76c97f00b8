import type { SeedDirectory } from './generator';
import type { FailureLog } from './outcomes';
import { SeedAuthError, SeedHttpError, type JsonResponse, type SeedHttp } from './http';

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
  readonly counts: {
    usersCreated: number;
    groupsCreated: number;
    memberships: number;
    droppedReferences: number;
    /** Sent, but the connection failed before the answer: the server may or may not have made them. */
    unconfirmed: number;
    /** Bulk requests sent (not planned: a stopped run sends fewer). */
    bulkRequests: number;
  };
  readonly progress: (phase: SeedProgress['phase']) => void;
  readonly signal?: AbortSignal;
  /** Set on the first fatal error (401/403, a failed connection): everyone stops sending. */
  fatal?: unknown;
}

/** Whether another request may be sent: not after a fatal error, nor once the run was asked to stop. */
export function mayContinue(ctx: LoadContext): boolean {
  return ctx.fatal === undefined && ctx.signal?.aborted !== true;
}

/**
 * Sends one request that creates `resources`. A connection that fails once the request may have
 * gone out (a closed socket, a timeout) leaves them unknown: counted as unconfirmed, not as made or
 * failed. One refused before anything went out leaves them not sent. Either error stops the run.
 */
export async function sendOrCount(
  ctx: LoadContext,
  resources: number,
  send: () => Promise<JsonResponse>,
  /** The request reached the server, but the answer is an error: lost with its connection, or a refusal. */
  onReachedServer?: () => void,
): Promise<JsonResponse> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof SeedHttpError && error.maybeDelivered) {
      ctx.counts.unconfirmed += resources;
      onReachedServer?.();
    }
    // A 401/403 answered it: sent, and nothing of it made.
    if (error instanceof SeedAuthError) onReachedServer?.();
    throw error;
  }
}
