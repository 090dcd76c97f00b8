/** Small durable-file helpers shared by the snapshot, the journal and the lock. */
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * fsyncs a folder so that a file created, renamed or removed in it survives a power cut. Windows
 * cannot open folders and makes renames durable itself, so there it is a no-op.
 */
export async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces a small file whole: written beside it, fsync'd, renamed over it, the folder fsync'd. A
 * crash leaves the old file or the new one, never a part of either.
 */
export async function writeFileAside(file: string, text: string): Promise<void> {
  const { temporary, handle } = await openAside(file);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  await syncFolder(dirname(file));
}

/** The file operations `openFresh` uses; the request log's segments pass a wrapper tests fail on demand. */
export type FreshFileIo = { open: typeof open; unlink: typeof unlink };

/**
 * Opens `path` as a new file, owner-only. Whatever is there (a crash's leftover) is removed first,
 * and the file is created exclusively: opened plainly, a symbolic link put there by another account
 * of a folder it can write to (a shared `--data`) was followed, and the file it named overwritten
 * with this account's rights.
 */
export async function openFresh(path: string, io: FreshFileIo = { open, unlink }): Promise<FileHandle> {
  await io.unlink(path).catch((error: unknown) => {
    if (!isErrno(error, 'ENOENT')) throw error;
  });
  return io.open(path, 'wx', 0o600);
}

/**
 * Opens `<file>.tmp`, new (`openFresh`), for a file to be replaced by renaming it over. Callers
 * write one file's temporary at a time.
 */
export async function openAside(file: string): Promise<{ temporary: string; handle: FileHandle }> {
  const temporary = `${file}.tmp`;
  return { temporary, handle: await openFresh(temporary) };
}

/**
 * Whether a file or folder of this uid belongs to another account, which could have put it in a
 * data folder it can write to (a shared `--data`). Root's is trusted, as ssh trusts it; so is
 * anything where there are no uids (Windows).
 */
export function ownedByAnother(uid: number): boolean {
  const own = process.getuid?.();
  return own !== undefined && uid !== own && uid !== 0;
}

/** Writes all of `buffer` at the file's current append position (a write may be partial). */
export async function writeAll(handle: FileHandle, buffer: Buffer, position?: number): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const at = position === undefined ? null : position + offset;
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, at);
    offset += bytesWritten;
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

/**
 * `mkdir -p`, one level at a time. Node's own `mkdir(dir, { recursive: true })` never settles for a
 * path that a pseudo file system refuses with ENOENT although its parent exists (`/proc/nope`:
 * libuv retries the parent, finds it, and tries again forever), so a mistyped `--data` spun a core
 * instead of saying so. Here a second ENOENT, after the parent was made, is the answer.
 */
export async function makeFolder(dir: string, mode?: number): Promise<void> {
  try {
    await makeOneFolder(dir, mode);
  } catch (error) {
    const parent = dirname(dir);
    if (!isErrno(error, 'ENOENT') || parent === dir) throw error;
    await makeFolder(parent, mode);
    await makeOneFolder(dir, mode);
  }
}

/** mkdir, where a folder already there (made by another process meanwhile, say) is success. */
async function makeOneFolder(dir: string, mode?: number): Promise<void> {
  try {
    await mkdir(dir, { mode });
  } catch (error) {
    // A file in the way stays EEXIST, as `recursive: true` reports it.
    if (isErrno(error, 'EEXIST') && (await stat(dir)).isDirectory()) return;
    throw error;
  }
}
