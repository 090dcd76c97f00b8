import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../clock';
import { writeFileAside } from '../store/fs-util';

export const SIGNOUTS_FILE = 'admin-signouts.json';

/**
 * Admin tokens signed out before they expire, by JWT id. Admin tokens are stateless (any process
 * with the key mints them), so "sign out" has to be remembered by the server that checks them —
 * and across restarts, or a restart would quietly sign a leaked token back in. Entries are kept
 * only until their token would have expired anyway, so the file stays a few lines long.
 */
const SignoutsFile = z.strictObject({
  version: z.literal(1),
  signed_out: z.array(z.strictObject({ jti: z.string().min(1).max(200), exp: z.number().int().min(0) })),
});

export class AdminSignoutsError extends Error {
  override readonly name = 'AdminSignoutsError';
}

export class AdminSignouts {
  /** Expiry (seconds since the epoch) by JWT id. */
  private readonly entries: Map<string, number>;
  /** Writes one at a time, each with every entry added before it. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dataDir: string,
    private readonly clock: Clock,
    entries: Map<string, number>,
  ) {
    this.entries = entries;
  }

  /** Reads the data folder's list. A damaged one stops the start: ignoring it would sign tokens back in. */
  static async open(dataDir: string, clock: Clock): Promise<AdminSignouts> {
    const file = join(dataDir, SIGNOUTS_FILE);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const entries = new Map<string, number>();
    if (text !== undefined) {
      let parsed: z.infer<typeof SignoutsFile>;
      try {
        parsed = SignoutsFile.parse(JSON.parse(text));
      } catch {
        throw new AdminSignoutsError(
          `${file} is damaged. Delete it to start: the admin tokens it signed out work again until they expire ` +
            '(delete admin-signing.key as well to end every admin token).',
        );
      }
      for (const { jti, exp } of parsed.signed_out) entries.set(jti, exp);
    }
    return new AdminSignouts(dataDir, clock, entries);
  }

  has(jti: string): boolean {
    return this.entries.has(jti);
  }

  /**
   * Resolves once the sign-out is on disk: only then may the caller be told it is done. The token
   * is refused from the call on; if the write fails it is accepted again, so that what the caller
   * is told (not signed out) stays true after a restart too, and a retry writes it.
   */
  async add(jti: string, exp: number): Promise<void> {
    const already = this.entries.has(jti);
    this.entries.set(jti, exp);
    const write = this.writing.then(() => this.write());
    // A failed write fails its caller, not every later one.
    this.writing = write.catch(() => undefined);
    try {
      await write;
    } catch (error) {
      if (!already) this.entries.delete(jti);
      throw error;
    }
  }

  private async write(): Promise<void> {
    const now = this.clock.now() / 1000;
    for (const [jti, exp] of this.entries) if (exp <= now) this.entries.delete(jti);
    const document: z.infer<typeof SignoutsFile> = {
      version: 1,
      signed_out: [...this.entries].map(([jti, exp]) => ({ jti, exp })),
    };
    await writeFileAside(join(this.dataDir, SIGNOUTS_FILE), `${JSON.stringify(document)}\n`);
  }
}
