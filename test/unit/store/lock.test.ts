import { readdir } from 'node:fs/promises';
import type * as FsPromises from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { acquireLock } from '../../../src-main/store/lock';
import { useTempDirs } from './tmp-dir';

/** `writeFile` as a full disk does it: the file is created, then the write fails. */
const fullDisk = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  const writeFile: typeof real.writeFile = async (file, data, options) => {
    if (!fullDisk.on) return real.writeFile(file, data, options);
    await real.writeFile(file, '', options);
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  return { ...real, writeFile };
});

const tempDir = useTempDirs();

describe('the data folder lock', () => {
  it('leaves no file behind when the disk is full, and says why it could not start', async () => {
    const dir = await tempDir();
    fullDisk.on = true;
    try {
      await expect(acquireLock(dir)).rejects.toThrow(/the disk is full/);
    } finally {
      fullDisk.on = false;
    }
    expect(await readdir(dir)).toEqual([]);
    const lock = await acquireLock(dir);
    expect(await readdir(dir)).toEqual(['scimdesk.lock']);
    await lock.release();
  });
});
