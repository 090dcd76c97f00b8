import { describe, expect, it } from 'vitest';
import { DataDirError, startFailure } from '../../../src-main/data-dir';

const errno = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('a start that fails in the data folder', () => {
  it('names the folder and the reason when the disk is full, not only the syscall', () => {
    const failure = startFailure('/srv/scim', errno('ENOSPC', 'ENOSPC: no space left on device, write'));
    expect(failure).toBeInstanceOf(DataDirError);
    expect((failure as Error).message).toBe(
      'cannot use /srv/scim as the data folder: the disk is full (fix that, or choose another folder with --data)',
    );
  });

  it('says so for a read-only disk too', () => {
    expect((startFailure('/srv/scim', errno('EROFS', 'EROFS: read-only file system')) as Error).message).toMatch(
      /the file system is read-only/,
    );
  });

  it('names the file inside the folder that could not be written', () => {
    const denied = Object.assign(errno('EACCES', "EACCES: permission denied, open '/srv/scim/db.json'"), {
      path: '/srv/scim/db.json',
    });
    expect((startFailure('/srv/scim', denied) as Error).message).toBe(
      'cannot use /srv/scim as the data folder: permission denied; it must be writable by this user ' +
        '(at /srv/scim/db.json) (fix that, or choose another folder with --data)',
    );
  });

  it('leaves other failures as they are: a file in the way names its own path', () => {
    const inTheWay = errno('ENOTDIR', "ENOTDIR: not a directory, open '/srv/scim/history/x'");
    expect(startFailure('/srv/scim', inTheWay)).toBe(inTheWay);
  });
});
