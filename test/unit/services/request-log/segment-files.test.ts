import * as fsPromises from 'node:fs/promises';
import { chown, lstat, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SegmentFiles } from '../../../../src-main/services/request-log/segment-files';

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Segment files over a folder of their own, counting the files opened for reading. */
async function openFiles(segmentBytes = 64) {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-segments-'));
  made.push(dir);
  const opened = { reads: 0 };
  const io = {
    ...fsPromises,
    open: (async (...args: Parameters<typeof fsPromises.open>) => {
      if (args[1] === 'r') opened.reads++;
      return fsPromises.open(...args);
    }) as typeof fsPromises.open,
  };
  const files = await SegmentFiles.open(dir, { segmentBytes, io }, () => undefined);
  return { files, opened, dir };
}

const line = (text: string) => Buffer.from(`${text}\n`);

describe('segment files: reads', () => {
  it('reads many lines of a segment through one open file', async () => {
    const { files, opened } = await openFiles(4096);
    const locs = await files.append(Array.from({ length: 50 }, (_, i) => line(`line ${i}`)));
    const texts = await Promise.all(locs.map(async (loc) => (await files.read(loc))?.toString()));
    expect(texts).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}\n`));
    expect(opened.reads).toBe(1);
    await files.close();
  });

  it('reads a rewritten segment from the new file, and a removed one as gone', async () => {
    const { files } = await openFiles(4096);
    const [a, b, c] = await files.append([line('alpha'), line('bravo'), line('charlie')]);
    expect((await files.read(b!))?.toString()).toBe('bravo\n');
    const [newC] = await files.rewrite(a!.segment, [c!]);
    expect((await files.read(newC!))?.toString()).toBe('charlie\n');
    await files.remove(a!.segment);
    expect(await files.read(newC!)).toBeUndefined();
    await files.close();
  });

  it('keeps a bounded number of segments open, and reads the others again when asked', async () => {
    const { files, opened } = await openFiles(16);
    // One line per segment: 20 segments.
    const locs = await files.append(
      Array.from({ length: 20 }, (_, i) => line(`segment ${String(i).padStart(2, '0')}`)),
    );
    expect(new Set(locs.map((loc) => loc.segment)).size).toBe(20);
    for (const loc of locs) expect((await files.read(loc))?.toString()).toMatch(/^segment \d\d\n$/);
    expect(opened.reads).toBe(20);
    // The most recently read ones are still open; the first ones were closed and open again.
    for (const loc of locs.slice(-8)) await files.read(loc);
    expect(opened.reads).toBe(20);
    await files.read(locs[0]!);
    expect(opened.reads).toBe(21);
    await files.close();
  });
});

/**
 * In a data folder other accounts can write to, a link planted where a file is about to be made
 * must not be followed: the file it names would be overwritten with this account's rights.
 */
describe('segment files: a shared data folder', () => {
  it('makes a new segment and a rewrite aside without following a link planted at their names', async () => {
    const { files, dir: folder } = await openFiles(16);
    const victim = join(await mkdtemp(join(tmpdir(), 'scimdesk-victim-')), 'victim');
    made.push(dirname(victim));
    await writeFile(victim, 'precious\n');
    const [first] = await files.append([line('segment 01 line')]);
    await symlink(victim, join(folder, '0000000002.jsonl'));
    await symlink(victim, join(folder, '0000000001.jsonl.tmp'));
    const [second] = await files.append([line('segment 02 line')]);
    expect(second!.segment).toBe(2);
    await files.rewrite(first!.segment, [first!]);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect((await files.read(second!))?.toString()).toBe('segment 02 line\n');
    expect((await lstat(join(folder, '0000000002.jsonl'))).isSymbolicLink()).toBe(false);
    await files.close();
  });

  const root = process.getuid?.() === 0;
  if (!root) console.log('foreign-folder test skipped: only root can give a folder another owner');
  it.skipIf(!root)('refuses a folder of segments another account made', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scimdesk-segments-'));
    made.push(dir);
    await chown(dir, 4242, 4242);
    await expect(SegmentFiles.open(dir, { segmentBytes: 64 }, () => undefined)).rejects.toThrow(
      `${dir} belongs to another user (uid 4242), who could read what is written there`,
    );
  });
});
