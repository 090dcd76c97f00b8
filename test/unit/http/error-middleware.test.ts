import { describe, expect, it, vi } from 'vitest';
import { isServerFault, toScimError } from '../../../src-main/http/error-middleware';
import { describeFault } from '../../../src-main/http/server-faults';
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

describe('what the request log keeps of a failure inside the server', () => {
  it('counts as a fault only what the client is not told', () => {
    expect(isServerFault(new TypeError('x is undefined'))).toBe(true);
    expect(isServerFault(new StoreFailedError('fsync failed'))).toBe(true);
    expect(isServerFault(ScimError.conflict('taken'))).toBe(false);
    expect(isServerFault(new StoreNoTenantError('t1'))).toBe(false);
    expect(isServerFault(new PasswordHasherBusyError('busy', 1))).toBe(false);
    // Koa's own client errors (a body over its limit) are told to the client as they are.
    expect(isServerFault(Object.assign(new Error('request entity too large'), { status: 413, expose: true }))).toBe(
      false,
    );
  });

  it('says the error and its cause, and keeps a long message short', () => {
    const cause = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(describeFault(new StoreFailedError('journal write failed', { cause }))).toBe(
      'StoreFailedError: journal write failed (caused by Error: ENOSPC: no space left on device, write)',
    );
    // A cause its message already quotes is not said twice.
    expect(describeFault(new StoreFailedError(`journal write failed: ${cause.message}`, { cause }))).toBe(
      'StoreFailedError: journal write failed: ENOSPC: no space left on device, write',
    );
    expect(describeFault('a string')).toBe('thrown string: a string');
    expect(describeFault(Object.create(null))).toBe('thrown object');
    const long = describeFault(new Error('x'.repeat(5_000)));
    expect(long.length).toBeLessThanOrEqual(1_001);
    expect(long.endsWith('…')).toBe(true);
  });
});
