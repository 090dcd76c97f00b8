import { describe, expect, it } from 'vitest';
import { LOGIN_CODE_TTL_MS, LoginCodes } from '../../../src-main/auth/login-codes';

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('one-time console login codes', () => {
  it('accepts a fresh code exactly once', () => {
    const codes = new LoginCodes(fakeClock());
    const code = codes.issue();
    expect(codes.redeem(code)).toBe(true);
    expect(codes.redeem(code)).toBe(false);
  });

  it('refuses a code after ten minutes', () => {
    const clock = fakeClock();
    const codes = new LoginCodes(clock);
    const code = codes.issue();
    clock.advance(LOGIN_CODE_TTL_MS);
    expect(codes.redeem(code)).toBe(false);
  });

  it('still accepts a code just before it expires', () => {
    const clock = fakeClock();
    const codes = new LoginCodes(clock);
    const code = codes.issue();
    clock.advance(LOGIN_CODE_TTL_MS - 1);
    expect(codes.redeem(code)).toBe(true);
  });

  it('refuses codes it never issued', () => {
    const codes = new LoginCodes(fakeClock());
    codes.issue();
    expect(codes.redeem('not-a-code')).toBe(false);
  });

  it('issues distinct, URL-safe codes', () => {
    const codes = new LoginCodes(fakeClock());
    const issued = new Set(Array.from({ length: 50 }, () => codes.issue()));
    expect(issued.size).toBe(50);
    for (const code of issued) expect(code).toMatch(/^[\w-]{20,}$/);
  });
});
