import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../../src-main/http/listener';

describe('which --host needs no exposure warning', () => {
  it('takes loopback names in any case, and 127.x and ::1', () => {
    for (const host of ['localhost', 'LOCALHOST', 'LocalHost', '127.0.0.1', '127.1.2.3', '::1']) {
      expect(isLoopback(host), host).toBe(true);
    }
  });

  it('warns for every other address', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'localhost.example.com', '128.0.0.1']) {
      expect(isLoopback(host), host).toBe(false);
    }
  });
});
