import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../../src-main/scim/filter/parser';
import { readsGroups } from '../../../src-main/services/identities/present';

describe('readsGroups: whether a list must walk each user’s nested groups', () => {
  it.each([
    ['groups pr', undefined, true],
    ['GROUPS.value eq "g1"', undefined, true],
    ['groups[type eq "indirect"]', undefined, true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:groups.value eq "g1"', undefined, true],
    ['not (groups pr) and active eq true', undefined, true],
    [undefined, 'groups.display', true],
    ['userName eq "a"', 'groups.value', true],
    ['userName eq "a" or active eq true', undefined, false],
    ['emails[type eq "work"]', 'name.familyName', false],
    [undefined, undefined, false],
    [undefined, 'not a path!', false],
  ])('%s sorted by %s: %s', (filter, sortBy, expected) => {
    expect(readsGroups(filter === undefined ? undefined : parseFilter(filter), sortBy)).toBe(expected);
  });
});
