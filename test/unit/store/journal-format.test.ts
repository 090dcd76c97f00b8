import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../../../src-main/store/journal-format';

describe('journal line format', () => {
  const ops = [JSON.stringify({ op: 'tenant.delete', tenant: 't1' })];

  it('round-trips a record', () => {
    const line = encodeRecord(7, ops);
    expect(line.endsWith('\n')).toBe(true);
    expect(decodeRecord(line.slice(0, -1))).toEqual({ seq: 7, ops: [{ op: 'tenant.delete', tenant: 't1' }] });
  });

  it('refuses a line whose checksum does not match, even when it parses', () => {
    const line = encodeRecord(7, ops).slice(0, -1).replace('"t1"', '"t2"');
    expect(decodeRecord(line)).toBeUndefined();
  });

  it('refuses a cut line and a record of unknown shape', () => {
    const line = encodeRecord(7, ops).slice(0, -1);
    expect(decodeRecord(line.slice(0, line.length - 3))).toBeUndefined();
    expect(decodeRecord(encodeRecord(7, ['{"op":"explode"}']).slice(0, -1))).toBeUndefined();
  });

  it('reads a put only when its document is an object with a non-empty string id', () => {
    const put = (doc: unknown) =>
      decodeRecord(
        encodeRecord(7, [JSON.stringify({ op: 'put', tenant: 't', collection: 'users', id: 'u', doc })]).slice(0, -1),
      );
    expect(put({ id: 'u', userName: 'a', extra: { kept: true } })?.ops[0]).toEqual({
      op: 'put',
      tenant: 't',
      collection: 'users',
      id: 'u',
      doc: { id: 'u', userName: 'a', extra: { kept: true } },
    });
    for (const bad of [{}, [], { id: '' }, { id: 3 }, null, 'u']) expect(put(bad)).toBeUndefined();
  });
});
