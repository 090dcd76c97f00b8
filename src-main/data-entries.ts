import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SIGNOUTS_FILE } from './auth/admin-signouts';
import { SIGNING_KEY_FILE } from './auth/signing-key';
import { DataDirError, HISTORY_FOLDER, REQUEST_LOG_FOLDER } from './data-dir';
import { SNAPSHOT_FILE } from './store/durable-store';
import { isSegmentName } from './store/journal-format';
import { LOCK_FILE } from './store/lock';

/**
 * Refuses, in one line that names it, an entry of the data folder that is a folder where scimdesk
 * keeps a file, or a file where it keeps a folder. Met where it is used, each was a bare system
 * error (`EISDIR: illegal operation on a directory, read`, with no name), or for `request-log`
 * three lines about a recovery that never came before it.
 */
export async function refuseEntriesOfWrongKind(dataDir: string): Promise<void> {
  const names = await readdir(dataDir).catch(() => [] as string[]);
  const files = new Set([LOCK_FILE, SNAPSHOT_FILE, SIGNING_KEY_FILE, SIGNOUTS_FILE]);
  const folders = new Set([HISTORY_FOLDER, REQUEST_LOG_FOLDER]);
  for (const name of names) {
    const wantsFolder = folders.has(name);
    if (!wantsFolder && !files.has(name) && !isSegmentName(name)) continue;
    // A link is judged by what it leads to; one that leads nowhere is for its user to meet.
    const info = await stat(join(dataDir, name)).catch(() => lstat(join(dataDir, name)).catch(() => undefined));
    if (!info || info.isSymbolicLink() || info.isDirectory() === wantsFolder) continue;
    const [is, keeps] = wantsFolder ? ['not a folder', 'a folder'] : ['a folder', 'a file'];
    throw new DataDirError(
      `cannot use ${dataDir} as the data folder: ${join(dataDir, name)} is ${is}, where scimdesk keeps ` +
        `${keeps} of that name (move it away, or choose another folder with --data)`,
    );
  }
}
