import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAside } from '../store/fs-util';
import type { Logger } from './admin-dispatch';

/**
 * `<data>/tenant-purges.json`: the tenants being deleted whose request log entries and history are
 * not removed yet. A tenant leaves the store first, durably, and what it left in the log and the
 * history is purged after: a crash between the two left them on disk, and the log's readable
 * through the admin API, with nothing to finish the purge. Each delete is noted here before the
 * store forgets the tenant and taken off once the purge is done, so the next start finishes what a
 * crash cut short.
 */
const PendingPurgesFile = z.object({
  version: z.literal(1),
  tenants: z.array(z.string()),
});

const FILE = 'tenant-purges.json';

export interface PendingPurges {
  /** Durable before it resolves: called before the store forgets the tenant. */
  add(id: string): Promise<void>;
  /** Done, or not to be done (the tenant is still in the store). */
  remove(id: string): Promise<void>;
  list(): string[];
}

export async function openPendingPurges(dataDir: string, log: Logger): Promise<PendingPurges> {
  const file = join(dataDir, FILE);
  const pending = new Set(await readPending(file, log));
  let writes: Promise<void> = Promise.resolve();
  // One write at a time, each of the whole set as it is when it runs: two deletes at once must
  // not rename their files over each other out of order.
  const save = (): Promise<void> => {
    const run = writes.then(() => writeFileAside(file, JSON.stringify({ version: 1, tenants: [...pending] })));
    writes = run.catch(() => undefined);
    return run;
  };
  return {
    add(id) {
      pending.add(id);
      return save();
    },
    remove(id) {
      return pending.delete(id) ? save() : Promise.resolve();
    },
    list() {
      return [...pending];
    },
  };
}

async function readPending(file: string, log: Logger): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = PendingPurgesFile.safeParse(value);
  if (parsed.success) return parsed.data.tenants;
  // Written aside and renamed, it is whole or absent unless edited by hand: the server still
  // starts, and says what it cannot finish.
  log.warn(
    `${file} does not hold the list of tenant deletes to finish; a delete a crash cut short may have left its tenant's request log entries and history`,
  );
  return [];
}
