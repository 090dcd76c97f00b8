import { describe, expect, it } from 'vitest';
import { Interner } from '../../../src-main/services/interner';

describe('Interner', () => {
  it('gives equal lists one frozen copy, never the caller’s array', () => {
    const interner = new Interner();
    const input = ['active', 'userName'];
    const first = interner.list(input);
    input.push('changed later');
    expect(first).toEqual(['active', 'userName']);
    expect(Object.isFrozen(first)).toBe(true);
    expect(interner.list(['active', 'userName'])).toBe(first);
  });

  it('keeps lists apart whose joined text collides (U+0000 inside a value)', () => {
    const interner = new Interner();
    const joined = interner.list(['a\u0000b']);
    const split = interner.list(['a', 'b']);
    expect(joined).toEqual(['a\u0000b']);
    expect(split).toEqual(['a', 'b']);
  });

  it('stops remembering past its bound but still answers with equal values', () => {
    const interner = new Interner(2);
    interner.string('one');
    interner.string('two');
    expect(interner.string('three')).toBe('three');
    expect(interner.list(['x'])).toEqual(['x']);
    expect(interner.list(['y'])).toEqual(['y']);
    const unremembered = interner.list(['z']);
    // Another list in between, so that ['z'] is not the last one given (which is kept apart).
    interner.list(['w']);
    expect(interner.list(['z'])).not.toBe(unremembered);
    expect(interner.list(['z'])).toEqual(['z']);
  });

  it('answers a list equal to the last one with that same copy, and a different one with its own', () => {
    const interner = new Interner();
    const users = interner.list(['active', 'userName']);
    expect(interner.list(['active', 'userName'])).toBe(users);
    expect(interner.list(['active', 'displayName'])).toEqual(['active', 'displayName']);
    expect(interner.list(['active'])).toEqual(['active']);
    expect(interner.list(['active', 'userName', 'title'])).toEqual(['active', 'userName', 'title']);
    expect(interner.list(['active', 'userName'])).toBe(users);
    // Empty lists in between (no flags) do not displace it.
    expect(interner.list([])).toBe(interner.list([]));
    expect(Object.isFrozen(interner.list([]))).toBe(true);
    expect(interner.list(['active', 'userName'])).toBe(users);
  });
});
