import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlainJson } from '../../../src-main/store/plain-json';
import { openDurableStore } from '../../../src-main/store/durable-store';
import { useTempDirs } from './tmp-dir';

const tempDir = useTempDirs();

describe('plain JSON (kept as given by the store instead of a parsed copy)', () => {
  it('is every value JSON.parse can return, and the round trip gives it back unchanged', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const value: unknown = JSON.parse(text);
        // JSON.parse("-0") is -0, which JSON.stringify writes as 0: the one value it returns that is not plain.
        if (text.includes('-0')) return;
        expect(isPlainJson(value)).toBe(true);
        expect(JSON.parse(JSON.stringify(value))).toStrictEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('is not a value the round trip would change', () => {
    class Named {
      value = 'x';
    }
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    for (const value of [
      { a: undefined },
      [undefined],
      sparse,
      { when: new Date(0) },
      { n: Number.NaN },
      { n: Number.POSITIVE_INFINITY },
      { n: -0 },
      new Named(),
      Object.create(null) as object,
      new Map(),
      { f: () => 1 },
      JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`) as unknown,
    ]) {
      expect(isPlainJson({ id: 'x', nested: [value] }), JSON.stringify(value) ?? String(value)).toBe(false);
    }
  });

  it('is nothing while a toJSON on the shared prototypes changes what JSON.stringify writes', () => {
    expect(isPlainJson({ id: 'x' })).toBe(true);
    Object.defineProperty(Object.prototype, 'toJSON', { value: () => ({ polluted: true }), configurable: true });
    try {
      expect(isPlainJson({ id: 'x' })).toBe(false);
    } finally {
      delete (Object.prototype as { toJSON?: unknown }).toJSON;
    }
    expect(isPlainJson({ id: 'x' })).toBe(true);
  });
});

describe('what the store keeps of a document that is not plain JSON', () => {
  it('is what a replay of its journal line rebuilds', async () => {
    const dir = await tempDir();
    const store = await openDurableStore(dir);
    await store.putTenant({ id: 't1', name: 'T', created_at: '2026-01-01T00:00:00.000Z', delete_mode: 'delete' });
    const doc = { id: 'u1', userName: 'a', gone: undefined, when: new Date(0), n: Number.NaN, z: -0 };
    await store.write('t1', (tx) => tx.put('users', doc as unknown as { id: string; userName: string }));
    const live = store.tenant('t1')?.get('users', 'u1');
    await store.close();
    const reopened = await openDurableStore(dir);
    const replayed = reopened.tenant('t1')?.get('users', 'u1');
    expect(live).toStrictEqual(replayed);
    expect(live).toStrictEqual({ id: 'u1', userName: 'a', when: '1970-01-01T00:00:00.000Z', n: null, z: 0 });
    await reopened.close();
  });
});
