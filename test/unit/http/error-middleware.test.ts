import { describe, expect, it, vi } from 'vitest';
import { toScimError } from '../../../src-main/http/error-middleware';
import { ScimError } from '../../../src-main/scim/errors';
import { PasswordHasherBusyError } from '../../../src-main/services/password-hasher';
import { StoreFailedError, StoreNoTenantError } from '../../../src-main/store/errors';

const logger = () => ({ info: vi.fn(), warn: vi.fn(), error: vi.fn() });

describe('errors as a SCIM client is shown them', () => {
  it('answers a write to a tenant deleted meanwhile with 404, and logs nothing', () => {
    const log = logger();
    const error = toScimError(new StoreNoTenantError('t1'), log);
    expect(error.toBody()).toMatchObject({ status: '404', detail: 'Tenant t1 not found.' });
    expect(log.error).not.toHaveBeenCalled();
  });

  it('keeps SCIM errors, and hides and logs the unexpected ones', () => {
    const log = logger();
    const given = ScimError.conflict('taken');
    expect(toScimError(given, log)).toBe(given);
    const hidden = toScimError(new TypeError('x is undefined'), log);
    expect(hidden.toBody()).toMatchObject({ status: '500' });
    expect(JSON.stringify(hidden.toBody())).not.toContain('x is undefined');
    expect(log.error).toHaveBeenCalledTimes(1);
  });

  it('says plainly when the data folder can no longer be written', () => {
    const error = toScimError(new StoreFailedError('fsync failed'), logger());
    expect(error.toBody()).toMatchObject({ status: '500', detail: expect.stringContaining('Restart scimdesk') });
  });

  it('answers a busy password hasher with 503 and a whole number of seconds to wait, and logs nothing', () => {
    const log = logger();
    const error = toScimError(new PasswordHasherBusyError('120 password hashes are already waiting', 10.4), log);
    expect(error.toBody()).toMatchObject({ status: '503', detail: expect.stringContaining('120 password hashes') });
    expect(error.retryAfterSeconds).toBe(11);
    expect(log.error).not.toHaveBeenCalled();
  });
});
