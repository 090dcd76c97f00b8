import { describe, expect, it } from 'vitest';
import { AdminError } from '@shared/errors';
import { endSession, exchangeLoginCode } from '../../../src-renderer/api/session';
import { respond } from './fake-fetch';

describe('login-code exchange', () => {
  it('trades the code for a session', async () => {
    const session = { token: 'aaa.bbb.ccc', expires_at: '2099-01-01T00:00:00.000Z' };
    const fetch = respond(200, session);
    await expect(exchangeLoginCode('code123', fetch)).resolves.toEqual(session);
    expect(fetch.mock.calls[0]![1]?.body).toBe(JSON.stringify({ code: 'code123' }));
  });

  it('explains an unknown, used or expired code', async () => {
    await expect(
      exchangeLoginCode('stale', respond(401, { detail: 'unknown', code: 'unauthorized' })),
    ).rejects.toMatchObject({ code: 'unauthorized', message: 'This login code is unknown, already used or expired.' });
  });

  it.each([
    [
      422,
      {
        detail: [{ loc: ['body', 'code'], msg: 'Too big: expected string to have <=200 characters', type: 'too_big' }],
      },
      'validation_failed',
      'body.code: Too big: expected string to have <=200 characters',
    ],
    [400, { detail: 'The body is not JSON.', code: 'bad_request' }, 'bad_request', 'The body is not JSON.'],
    [500, { detail: 'boom' }, 'internal', 'boom'],
    [502, undefined, 'internal', 'The server answered 502.'],
  ])('passes on the server’s reason for a %i', async (status, body, code, message) => {
    const refused = await exchangeLoginCode('x', respond(status, body)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AdminError);
    expect(refused).toMatchObject({ code, message });
  });

  it('refuses an answer that is not a session', async () => {
    await expect(exchangeLoginCode('code123', respond(200, { token: 3 }))).rejects.toMatchObject({
      code: 'internal',
      message: 'The server answered 200 to the login.',
    });
  });
});

describe('ending a session', () => {
  it('takes a token the server already refuses as ended', async () => {
    await expect(endSession('aaa.bbb.ccc', respond(401, { detail: 'x', code: 'unauthorized' }))).resolves.toBe(
      undefined,
    );
  });
});
