import { describe, expect, it } from 'vitest';
import { RequestLogQuery } from '../../../src-shared/request-log';

const window = (since: string, until: string) => RequestLogQuery.safeParse({ since, until }).success;

describe('a request-log time window', () => {
  it('is refused when it ends before it starts, to the last digit given', () => {
    expect(window('2026-01-01T00:00:00.5009Z', '2026-01-01T00:00:00.5001Z')).toBe(false);
    expect(window('2026-01-01T00:00:01Z', '2026-01-01T00:00:00.999999Z')).toBe(false);
    // The same instant, written in different ways.
    expect(window('2026-01-01T00:00:00.5Z', '2026-01-01T00:00:00.500000Z')).toBe(true);
    expect(window('2026-01-01T02:00:00.5001+02:00', '2026-01-01T00:00:00.5001Z')).toBe(true);
    expect(window('2026-01-01T00:00:00.5001Z', '2026-01-01T00:00:00.50011Z')).toBe(true);
  });
});
