import { describe, expect, it, vi } from 'vitest';
import { toAdminErrorData } from '../../../src-main/services/admin-dispatch';
import { StoreFailedError } from '../../../src-main/store/errors';

const errno = (code: string, message: string, path?: string) =>
  Object.assign(new Error(`${code}: ${message}`), { code, ...(path === undefined ? {} : { path }) });

describe('what an admin caller is told of a failure', () => {
  it('names a full or read-only data folder, and the file, instead of an internal error', () => {
    const log = { error: vi.fn(), warn: vi.fn(), info: vi.fn() };
    const full = toAdminErrorData(
      errno('ENOSPC', 'no space left on device, write', '/data/tenant-purges.json.tmp'),
      log,
    );
    expect(full).toEqual({
      code: 'unavailable',
      message:
        'The server could not use its data folder: the disk is full (at /data/tenant-purges.json.tmp). ' +
        'The request was not carried out; free space or fix the folder, then try again.',
    });
    expect(toAdminErrorData(errno('EROFS', 'read-only file system, open'), log)).toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('the file system is read-only.'),
    });
    expect(log.error).not.toHaveBeenCalled();
  });

  it('keeps the store-down message, and an unknown failure internal and logged', () => {
    const log = { error: vi.fn(), warn: vi.fn(), info: vi.fn() };
    expect(toAdminErrorData(new StoreFailedError('journal write failed: EIO'), log)).toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('Restart scimdesk'),
    });
    expect(toAdminErrorData(errno('EISDIR', 'illegal operation on a directory'), log)).toEqual({
      code: 'internal',
      message: 'Internal error; details are in the server log.',
    });
    expect(log.error).toHaveBeenCalledTimes(1);
  });
});
