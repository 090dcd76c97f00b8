import { adminContract, type AdminClient } from '@shared/contract';
import { ADMIN_OPERATION_NAMES, type AdminOperationName } from '@shared/contract-ops';
import { AdminError } from '@shared/errors';
import type { AdminTransport } from './transport';

/**
 * The renderer's one admin client, derived from the contract table. Whatever the transport, a
 * failure arrives as one AdminError, and answers are checked against the declared output.
 */
export function createAdminClient(transport: AdminTransport): AdminClient {
  const call = async (op: AdminOperationName, input: unknown): Promise<unknown> => {
    const result = await transport.call(op, input);
    if (!result.ok) throw new AdminError(result.error.code, result.error.message, result.error.issues);
    const checked = adminContract[op].output.safeParse(result.data);
    if (!checked.success) throw new AdminError('internal', `The server's answer to ${op} was not understood.`);
    return checked.data;
  };
  return Object.fromEntries(
    ADMIN_OPERATION_NAMES.map((op) => [op, (input: unknown) => call(op, input)]),
  ) as AdminClient;
}
