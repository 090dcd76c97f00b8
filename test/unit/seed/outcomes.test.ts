import { describe, expect, it } from 'vitest';
import { describeText, failure } from '../../../src-main/seed/outcomes';

describe('what a failed create is reported as', () => {
  it('names an HTML error page by its title instead of quoting it', () => {
    const page = '<!DOCTYPE html>\n<html><head>\n<title>502 Bad\n  Gateway</title></head><body>' + 'x'.repeat(400);
    expect(failure(502, page)).toEqual({ ok: false, kind: '502', detail: 'an HTML page ("502 Bad Gateway")' });
    expect(describeText('<html><body>oops</body></html>')).toBe('an HTML page');
  });

  it('keeps the first line of plain text, without control characters, and at most 200 characters', () => {
    expect(describeText('  Service Unavailable\r\nretry later')).toBe('Service Unavailable');
    expect(describeText('bad\u0007 gateway')).toBe('bad gateway');
    expect(describeText('y'.repeat(300))).toBe(`${'y'.repeat(200)}…`);
  });

  it('takes the detail of a SCIM error as it is', () => {
    expect(failure(409, { scimType: 'uniqueness', detail: 'userName taken' })).toEqual({
      ok: false,
      kind: '409 uniqueness',
      detail: 'userName taken',
    });
  });
});
