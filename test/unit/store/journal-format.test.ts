import { describe, expect, it } from 'vitest';
import { encodeRecord, readRecord } from '../../../src-main/store/journal-format';

describe('journal line format', () => {
  const ops = [JSON.stringify({ op: 'tenant.delete', tenant: 't1' })];

  it('round-trips a record', () => {
    const line = encodeRecord(7, ops);
    expect(line.endsWith('\n')).toBe(true);
    expect(readRecord(line.slice(0, -1))).toEqual({ seq: 7, ops: [{ op: 'tenant.delete', tenant: 't1' }] });
  });

  it('refuses a line whose checksum does not match, even when it parses', () => {
    const line = encodeRecord(7, ops).slice(0, -1).replace('"t1"', '"t2"');
    expect(readRecord(line)).toBe('damaged');
  });

  it('refuses a cut line and a record of unknown shape', () => {
    const line = encodeRecord(7, ops).slice(0, -1);
    expect(readRecord(line.slice(0, line.length - 3))).toBe('damaged');
    // Whole and checked, but no change this build knows: a newer build's, kept rather than cut.
    expect(readRecord(encodeRecord(7, ['{"op":"explode"}']).slice(0, -1))).toBe('unknown');
  });

  it('reads a put only when its document is an object with a non-empty string id', () => {
    const put = (doc: unknown) =>
      readRecord(
        encodeRecord(7, [JSON.stringify({ op: 'put', tenant: 't', collection: 'users', id: 'u', doc })]).slice(0, -1),
      );
    const read = put({ id: 'u', userName: 'a', extra: { kept: true } });
    expect(typeof read === 'string' ? read : read.ops[0]).toEqual({
      op: 'put',
      tenant: 't',
      collection: 'users',
      id: 'u',
      doc: { id: 'u', userName: 'a', extra: { kept: true } },
    });
    for (const bad of [{}, [], { id: '' }, { id: 3 }, null, 'u']) expect(put(bad)).toBe('unknown');
  });
});
