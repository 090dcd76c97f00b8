import type { AdminClient, AdminHandlers } from '@shared/contract';
import { ADMIN_OPERATION_NAMES } from '@shared/contract-ops';

/**
 * A complete handler/client object for tests: the operations a test gives are used, every other one
 * fails loudly, so a test never passes because of an operation it did not expect to be called.
 */
function complete<T extends object>(given: Partial<T>, what: string): T {
  const all: Record<string, unknown> = {};
  for (const name of ADMIN_OPERATION_NAMES) {
    all[name] =
      (given as Record<string, unknown>)[name] ??
      (() => Promise.reject(new Error(`${what}.${name} was called, but this test did not expect it`)));
  }
  return all as T;
}

export const fakeHandlers = (given: Partial<AdminHandlers>): AdminHandlers => complete(given, 'handlers');
export const fakeClient = (given: Partial<AdminClient>): AdminClient => complete(given, 'client');
