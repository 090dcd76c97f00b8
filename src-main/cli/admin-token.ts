import { AdminTokens } from '../auth/admin-tokens';
import { loadOrCreateSigningKey } from '../auth/signing-key';
import { systemClock } from '../clock';
import type { CliIo } from './serve';

/** `scimdesk admin-token`: reads (or creates) the signing key without the data-folder lock. */
export async function printAdminToken(dataDir: string, ttlSeconds: number, io: CliIo): Promise<number> {
  const key = await loadOrCreateSigningKey(dataDir);
  const issued = await new AdminTokens(key, systemClock).issue(ttlSeconds);
  io.err(`admin token for ${dataDir}, valid until ${issued.expiresAt.toISOString()}:`);
  io.out(issued.token);
  return 0;
}
