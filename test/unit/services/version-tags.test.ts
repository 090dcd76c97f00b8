import { describe, expect, it } from 'vitest';
import { etagMatches, etagNamesRevision, representationTag } from '../../../src-main/services/identities/kinds';

describe('version tags', () => {
  it('keeps a plain revision when nothing is derived, and adds a digest of what is', () => {
    expect(representationTag('W/"3"', undefined)).toBe('W/"3"');
    const tag = representationTag('W/"3"', 'g\u0000id\u0000Admins');
    expect(tag).toMatch(/^W\/"3\.[0-9a-f]{12}"$/);
    expect(representationTag('W/"3"', 'g\u0000id\u0000Admins')).toBe(tag);
    expect(representationTag('W/"3"', 'g\u0000id\u0000Owners')).not.toBe(tag);
  });

  it('matches a GET precondition on the whole tag, and a write precondition on the revision', () => {
    const tag = representationTag('W/"3"', 'g\u0000id\u0000Admins');
    const older = representationTag('W/"3"', 'g\u0000id\u0000Owners');
    expect(etagMatches(tag, tag)).toBe(true);
    expect(etagMatches(older, tag)).toBe(false);
    for (const header of [tag, older, 'W/"3"', '"3"', '*', `W/"1", ${older}`]) {
      expect(etagNamesRevision(header, 'W/"3"')).toBe(true);
    }
    for (const header of ['W/"4"', 'W/"30"', '"3x"', 'W/"1", W/"2"']) {
      expect(etagNamesRevision(header, 'W/"3"')).toBe(false);
    }
  });
});
