import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAside } from '../../store/fs-util';

/**
 * `<dir>/meta.json`: the small state of the request log that the segments cannot tell on their
 * own. `reserved_seq` is the highest sequence number that may have been handed out, reserved in
 * blocks ahead of use, so that after a crash (entries still in the write buffer are lost, their
 * seqs were already streamed) numbering resumes above anything a client can have seen. Written
 * aside, fsync'd, renamed: it is rare (once per block of seqs) and must not go backwards.
 */
export const LogMeta = z.object({
  version: z.literal(1),
  reserved_seq: z.number().int().min(0),
  tenant_limits: z.record(z.string(), z.object({ maxEntries: z.number().int().min(1) })),
  /**
   * Per tenant, the highest seq its cap removed: start-up skips the tenant's entries up to it. Replay
   * alone would apply today's cap, and a raised cap would bring back entries removed long ago.
   * (Older files have none.)
   */
  tenant_floors: z.record(z.string(), z.number().int().min(0)).default({}),
  /**
   * The same for the tenant's requests refused for their credential (401), which its cap removes
   * first once they fill half of it: each floor covers its own kind of entry only.
   */
  tenant_refused_floors: z.record(z.string(), z.number().int().min(0)).default({}),
  /**
   * The same for the whole log's count cap: the highest seq it removed as the oldest entry, and as
   * the oldest refused one. Replay alone counted entries a tenant's cap had removed (skipped at
   * start by their floors) and so evicted other entries than the run had: a kept entry was lost
   * across a restart and a refused one came back. With these floors start-up
   * keeps exactly what the run kept. (Older files have none: replay as before.)
   */
  global_floor: z.number().int().min(0).default(0),
  global_refused_floor: z.number().int().min(0).default(0),
});
export type LogMeta = z.infer<typeof LogMeta>;

const FILE = 'meta.json';

/** The saved state, or none (a new log), or why it could not be used: the caller says so. */
export async function readLogMeta(dir: string): Promise<{ meta?: LogMeta; problem?: string }> {
  const file = join(dir, FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `${file} could not be read (${(error as Error).message})` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: `${file} is not JSON` };
  }
  const parsed = LogMeta.safeParse(value);
  return parsed.success ? { meta: parsed.data } : { problem: `${file} does not hold the log's state` };
}

export async function writeLogMeta(dir: string, meta: LogMeta): Promise<void> {
  await writeFileAside(join(dir, FILE), JSON.stringify(meta));
}
