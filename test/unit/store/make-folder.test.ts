import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolder } from '../../../src-main/store/fs-util';
import { useTempDirs } from './tmp-dir';

describe('makeFolder (mkdir -p that always ends)', () => {
  const tmpDir = useTempDirs();

  it('makes every missing folder on the way, with the mode asked for', async () => {
    const root = await tmpDir();
    const deep = join(root, 'a', 'b', 'c');
    await makeFolder(deep, 0o700);
    expect((await stat(deep)).isDirectory()).toBe(true);
    if (process.platform !== 'win32') {
      expect((await stat(join(root, 'a'))).mode & 0o777).toBe(0o700);
      expect((await stat(deep)).mode & 0o777).toBe(0o700);
    }
  });

  it('is content with a folder that is already there', async () => {
    const root = await tmpDir();
    await mkdir(join(root, 'here'));
    await expect(makeFolder(join(root, 'here'))).resolves.toBeUndefined();
    await expect(makeFolder(root)).resolves.toBeUndefined();
  });

  it('refuses a file in the way, as recursive mkdir does', async () => {
    const root = await tmpDir();
    const file = join(root, 'file');
    await writeFile(file, 'x');
    await expect(makeFolder(file)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeFolder(join(file, 'below', 'deeper'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // Node's `recursive: true` never settles here; this test would time out on it.
  it.skipIf(!existsSync('/proc/self'))('answers ENOENT where the file system refuses to make it (/proc)', async () => {
    await expect(makeFolder('/proc/scimdesk-nope')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(makeFolder('/proc/scimdesk-nope/deeper')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
