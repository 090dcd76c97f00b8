import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { link, open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isDataDirProblem, unusableDataDir } from '../data-dir';
import { makeFolder, ownedByAnother, syncFolder } from '../store/fs-util';

export const SIGNING_KEY_FILE = 'admin-signing.key';
const KEY_BYTES = 32;

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

/**
 * Reads the admin-token signing key from the data folder, creating it if absent.
 *
 * Creation is exclusive across processes: the key is written and fsync'd under a private temporary
 * name, then hard-linked to its final name, and link() fails when the name exists. So two commands
 * starting at once (a server and `scimdesk admin-token`) can never both write it, and no reader ever
 * sees a half-written key. No lock is taken, so this works beside a running server.
 */
export async function loadOrCreateSigningKey(dataDir: string): Promise<Uint8Array> {
  const file = join(dataDir, SIGNING_KEY_FILE);
  const unusable = (error: unknown): never => {
    throw isDataDirProblem(error) ? unusableDataDir(dataDir, error) : error;
  };
  const existing = await readKey(file).catch(unusable);
  if (existing) return existing;

  await makeFolder(dataDir, 0o700).catch(unusable);
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600).catch(unusable);
  try {
    await handle.writeFile(`${randomBytes(KEY_BYTES).toString('base64url')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, file);
    await syncFolder(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  const created = await readKey(file);
  if (!created) throw new SigningKeyError(`${file} vanished while it was being created`);
  return created;
}

async function readKey(file: string): Promise<Uint8Array | undefined> {
  // The file checked is the file read, through one handle: a stat and then a read by name let a
  // link swapped in between be read unchecked. A link is not followed at all (O_NOFOLLOW).
  let handle: FileHandle;
  try {
    // Non-blocking, or a named pipe put there held the start until something wrote to it.
    const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
    handle = await open(file, process.platform === 'win32' ? 'r' : flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') {
      throw new SigningKeyError(`${file} is a symbolic link; the key must be a file of its own: delete it to make one`);
    }
    throw error;
  }
  let text: string;
  try {
    const stats = await handle.stat();
    // A folder there was told to chmod it, then met a bare EISDIR with no name.
    if (!stats.isFile()) throw new SigningKeyError(`${file} is not a file; delete it to make a new key`);
    // Like ssh with a private key: a key others can read is refused, not silently used.
    if (process.platform !== 'win32') refuseShared(file, stats);
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.length !== KEY_BYTES) {
    throw new SigningKeyError(`${file} does not hold a ${KEY_BYTES}-byte key; delete it to make a new one`);
  }
  return new Uint8Array(key);
}

function refuseShared(file: string, { mode, uid }: Stats): void {
  if ((mode & 0o077) !== 0) {
    throw new SigningKeyError(
      `${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
    );
  }
  // And one another account wrote: in a folder it can write to (a shared --data), it put its own
  // key there and signed itself admin tokens this server took.
  if (ownedByAnother(uid)) {
    throw new SigningKeyError(
      `${file} belongs to another user (uid ${uid}), who could sign admin tokens with it; ` +
        `delete it to make a new one, or run scimdesk as that user`,
    );
  }
}
