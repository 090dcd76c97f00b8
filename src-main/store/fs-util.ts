/** Small durable-file helpers shared by the snapshot, the journal and the lock. */
import { open, type FileHandle } from 'node:fs/promises';

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
