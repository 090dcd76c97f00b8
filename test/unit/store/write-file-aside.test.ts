import { lstat, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAside } from '../../../src-main/store/fs-util';
import { useTempDirs } from './tmp-dir';

describe('writeFileAside (replace a small file whole)', () => {
  const tmpDir = useTempDirs();

  it('replaces the file, 0600, leaving no temporary behind', async () => {
    const dir = await tmpDir();
    const file = join(dir, 'meta.json');
    await writeFile(file, 'old');
    await writeFileAside(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    await expect(lstat(`${file}.tmp`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('writes over a temporary a crash left, whatever it holds', async () => {
    const dir = await tmpDir();
    const file = join(dir, 'meta.json');
    await writeFile(`${file}.tmp`, 'half a write');
    await writeFileAside(file, 'whole');
    expect(await readFile(file, 'utf8')).toBe('whole');
  });

  it.skipIf(process.platform === 'win32')(
    'does not follow a link put where its temporary goes (another account of a shared folder)',
    async () => {
      const dir = await tmpDir();
      const victim = join(await tmpDir(), 'someone-elses-file');
      await writeFile(victim, 'precious');
      const file = join(dir, 'admin-signouts.json');
      await symlink(victim, `${file}.tmp`);
      await writeFileAside(file, 'ours');
      expect(await readFile(victim, 'utf8')).toBe('precious');
      // What is there now is a file of ours, not the link renamed into place.
      expect((await lstat(file)).isSymbolicLink()).toBe(false);
      expect(await readFile(file, 'utf8')).toBe('ours');
    },
  );
});
