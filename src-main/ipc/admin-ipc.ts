import { ADMIN_IPC_CHANNEL, isAdminOperationName } from '@shared/contract-ops';
import type { AdminHandlers } from '@shared/contract';
import type { AdminResult } from '@shared/errors';
import { settleAdminOperation, toAdminErrorData, type Logger } from '../services/admin-dispatch';

/** The part of Electron's ipcMain this module needs; keeps the wiring testable without Electron. */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => Promise<unknown>,
  ): void;
}

/**
 * One channel for every admin operation, derived from the contract table. Each call is checked in
 * main, every time: the sender frame must be the app's own page, the operation a known one, and the
 * payload valid against the contract (STYLE.md §4). Results travel as data (`AdminResult`).
 *
 * Like an HTTP answer (see http/durable-answers.ts), an IPC answer waits until everything written before
 * it is durable (`settled`): the console must not show a version that a crash would take back.
 */
export function registerAdminIpc(
  ipcMain: IpcMainLike,
  handlers: AdminHandlers,
  isTrustedFrame: (url: string) => boolean,
  log: Logger,
  settled: () => Promise<void>,
): AdminIpc {
  let inFlight = 0;
  let draining = false;
  let onIdle: (() => void) | undefined;
  ipcMain.handle(ADMIN_IPC_CHANNEL, async (event, op, payload): Promise<AdminResult<unknown>> => {
    if (draining) return { ok: false, error: { code: 'unavailable', message: 'scimdesk is quitting.' } };
    inFlight++;
    try {
      return await answer(event, op, payload);
    } finally {
      if (--inFlight === 0) onIdle?.();
    }
  });
  return {
    drain() {
      draining = true;
      return inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onIdle = resolve));
    },
  };

  async function answer(
    event: { senderFrame: { url: string } | null },
    op: unknown,
    payload: unknown,
  ): Promise<AdminResult<unknown>> {
    const frameUrl = event.senderFrame?.url;
    if (!frameUrl || !isTrustedFrame(frameUrl)) {
      log.warn(`refused an admin IPC call from ${frameUrl ?? 'a destroyed frame'}`);
      return { ok: false, error: { code: 'forbidden', message: 'This page may not use the admin API.' } };
    }
    if (!isAdminOperationName(op)) {
      return { ok: false, error: { code: 'not_found', message: `Unknown admin operation: ${String(op)}.` } };
    }
    const result = await settleAdminOperation(handlers, op, payload, log);
    try {
      await settled();
    } catch (error) {
      // The store failed before what the answer shows was durable: say that, as HTTP does (an
      // admin write may be decided outside its own transaction: see http/durable-answers.ts).
      return { ok: false, error: toAdminErrorData(error, log) };
    }
    return result;
  }
}

export interface AdminIpc {
  /**
   * Refuses new calls and resolves once those under way are answered: a quit closes the services
   * after it, as it closes them after the HTTP requests in flight. Closed under a call, they made
   * it end in an error instead of finishing what it began.
   */
  drain(): Promise<void>;
}
