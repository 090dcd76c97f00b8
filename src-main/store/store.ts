import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { z } from 'zod';
import { Tenant } from '@shared/tenant';

export const STORE_VERSION = 1;
export const STORE_FILE = 'db.json';

const StoreData = z.object({
  version: z.literal(STORE_VERSION),
  tenants: z.array(Tenant),
});
export type StoreData = z.infer<typeof StoreData>;

export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

export interface Store {
  readonly data: Readonly<StoreData>;
  readonly file: string;
}

/**
 * Opens the data folder's document. Built with `new Low(new JSONFile(...))` rather than
 * `JSONFilePreset`, which silently switches to memory when NODE_ENV=test.
 * The durable snapshot + journal store replaces this (see docs/architecture.md).
 */
export async function openStore(dataDir: string): Promise<Store> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, STORE_FILE);
  const db = new Low<unknown>(new JSONFile<unknown>(file), null);
  try {
    await db.read();
  } catch (error) {
    throw new StoreOpenError(`cannot read ${file}: ${(error as Error).message}`);
  }
  if (db.data === null) return { file, data: { version: STORE_VERSION, tenants: [] } };
  const parsed = StoreData.safeParse(db.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
    throw new StoreOpenError(`${file} is not a valid scimdesk store (${where})`);
  }
  return { file, data: parsed.data };
}
