import { describe, expect, it, vi } from 'vitest';
import { takeLoginCodeFromUrl } from '../../../src-renderer/login-code';

function at(hash: string) {
  const location = { hash, pathname: '/', search: '' } as Location;
  const history = { replaceState: vi.fn() } as unknown as History;
  return { location, history };
}

describe('login code in the console URL', () => {
  it('takes the code and removes it from the address bar', () => {
    const { location, history } = at('#code=abc_123-XYZ');
    expect(takeLoginCodeFromUrl(location, history)).toBe('abc_123-XYZ');
    expect(history.replaceState).toHaveBeenCalledWith(null, '', '/');
  });

  it('leaves URLs without a code alone', () => {
    const { location, history } = at('');
    expect(takeLoginCodeFromUrl(location, history)).toBeUndefined();
    expect(history.replaceState).not.toHaveBeenCalled();
  });
});
