import { stat } from 'node:fs/promises';
import { AdminTokens } from '../auth/admin-tokens';
import { loadOrCreateSigningKey } from '../auth/signing-key';
import { systemClock } from '../clock';
import type { CliIo } from './serve';

/** `scimdesk admin-token`: reads (or creates) the signing key without the data-folder lock. */
export async function printAdminToken(dataDir: string, ttlSeconds: number, io: CliIo): Promise<number> {
  // A mistyped --data makes a new folder with a new key, whose tokens no running server accepts.
  const isNew = !(await stat(dataDir).catch(() => undefined));
  const key = await loadOrCreateSigningKey(dataDir);
  if (isNew) {
    io.err(
      `note: ${dataDir} did not exist and was created; a server on another data folder will not accept this token`,
    );
  }
  const issued = await new AdminTokens(key, systemClock).issue(ttlSeconds);
  io.err(`admin token for ${dataDir}, valid until ${issued.expiresAt.toISOString()}:`);
  io.out(issued.token);
  return 0;
}
