/**
 * Recovery: replays the journal segments over the snapshot.
 *
 * - Records up to the snapshot's `journalSeq` are already in it and are skipped (a checkpoint may
 *   have crashed after writing the snapshot and before deleting old segments).
 * - After that, sequence numbers must follow one another; a gap means a lost segment and stops the
 *   start rather than serving a state that never existed.
 * - The last line of the last segment may be torn (a crash in the middle of an append, which was
 *   therefore never acknowledged): it is dropped, and cut off the file so appends start clean. Its
 *   bytes are copied beside the segment first: a line that is complete but fails its checksum is
 *   most likely torn too (the disk wrote its end before its middle), but it is not proof, and a
 *   copy costs nothing.
 * - A damaged line anywhere else stops the start with the file and line number, and what to do.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { JournalRecord } from './documents';
import { StoreOpenError } from './errors';
import { syncFolder } from './fs-util';
import { listSegments, readRecord, type SegmentInfo } from './journal-format';

export interface ReplayResult {
  /** The last sequence number now in memory (the snapshot's when the journal adds nothing). */
  lastSeq: number;
  segments: SegmentInfo[];
  /** Set when a torn last line was cut off: where, how many bytes, and where a copy of them is kept. */
  truncated?: TornLine;
}

export interface TornLine {
  file: string;
  line: number;
  bytes: number;
  /** The line ended with a newline: whole, but failing its checksum. */
  complete: boolean;
  /** Where its bytes are kept, or why no copy could be written (a torn line is cut without one). */
  copy: { file: string } | { failed: string };
}

export async function replayJournal(
  dir: string,
  snapshotSeq: number,
  apply: (record: JournalRecord) => void,
): Promise<ReplayResult> {
  const segments = await listSegments(dir);
  let lastSeq = snapshotSeq;
  let truncated: ReplayResult['truncated'];
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s] as SegmentInfo;
    const isLastSegment = s === segments.length - 1;
    // A segment is named after its first change. Its records would show a gap too, but after a
    // clean stop the last segment is empty: a missing or older db.json then went unnoticed, the
    // server started with less (or nothing), and its next writes reused numbers the real db.json
    // holds, to be skipped as covered once it was put back.
    if (segment.firstSeq > lastSeq + 1) throw new StoreOpenError(missingChanges(segment, lastSeq, snapshotSeq));
    const buffer = await readFile(segment.file);
    segment.bytes = buffer.length;
    let start = 0;
    for (let line = 1; start < buffer.length; line++) {
      const newline = buffer.indexOf(0x0a, start);
      const end = newline === -1 ? buffer.length : newline;
      const next = newline === -1 ? buffer.length : newline + 1;
      const record = newline === -1 ? 'damaged' : readRecord(buffer.toString('utf8', start, end));
      if (record === 'unknown') {
        throw new StoreOpenError(
          `${segment.file} line ${line} passes its checksum but holds a change this version of scimdesk ` +
            'does not know (was the folder used by a newer version?); start that version again',
        );
      }
      if (record === 'damaged') {
        if (isLastSegment && next >= buffer.length) {
          const complete = newline !== -1;
          const copy = await keepCopy(segment.file, buffer.subarray(start), dir);
          if ('failed' in copy && complete) {
            // A whole line is probably torn, not certainly: it is not cut without a copy.
            throw new StoreOpenError(
              `${segment.file} line ${line}, the last, is whole but fails its checksum; it would be cut off, ` +
                `but a copy of it could not be kept first (${copy.failed})`,
            );
          }
          await truncateFile(segment.file, start);
          truncated = { file: segment.file, line, bytes: buffer.length - start, complete, copy };
          segment.bytes = start;
          break;
        }
        throw new StoreOpenError(damagedLine(segment, line, start, segments.slice(s + 1), snapshotSeq));
      }
      if (record.seq > snapshotSeq) {
        if (record.seq !== lastSeq + 1) {
          throw new StoreOpenError(
            `${segment.file} line ${line} holds change ${record.seq} but ${lastSeq + 1} was expected ` +
              `(the snapshot, db.json, holds the changes up to ${snapshotSeq}): the changes in between are ` +
              'gone. A journal segment is missing, or db.json is missing or was replaced by an older copy; ' +
              'put back what is missing, from a backup if need be',
          );
        }
        try {
          apply(record);
        } catch (error) {
          throw new StoreOpenError(`${segment.file} line ${line} cannot be applied: ${(error as Error).message}`);
        }
        lastSeq = record.seq;
      }
      start = next;
    }
  }
  return truncated ? { lastSeq, segments, truncated } : { lastSeq, segments };
}

function missingChanges(segment: SegmentInfo, lastSeq: number, snapshotSeq: number): string {
  const before =
    lastSeq === snapshotSeq
      ? `the snapshot, db.json, holds the changes up to ${snapshotSeq}${snapshotSeq === 0 ? ' (or is not there)' : ''}`
      : `the snapshot, db.json, and the journal before it hold the changes up to ${lastSeq}`;
  return (
    `${segment.file} starts at change ${segment.firstSeq}, but ${before}: changes ${lastSeq + 1} to ` +
    `${segment.firstSeq - 1} are gone. db.json is missing or was replaced by an older copy, or a journal ` +
    'segment is missing; put back what is missing, from a backup if need be'
  );
}

/**
 * A damaged line with records after it is not a crash's doing, and the start is refused. The message
 * says how to start anyway with the changes before it, which means giving up the ones after it.
 */
function damagedLine(
  segment: SegmentInfo,
  line: number,
  offset: number,
  later: readonly SegmentInfo[],
  snapshotSeq: number,
): string {
  const damaged = `${segment.file} line ${line} is damaged (it fails its checksum)`;
  const next = later[0];
  // A checkpoint that crashed before deleting the segments its snapshot covers leaves them behind.
  if (next !== undefined && next.firstSeq <= snapshotSeq + 1) {
    return `${damaged}, but the snapshot (db.json) already holds every change in that file: delete it and start again`;
  }
  const moveLater =
    later.length === 0
      ? ''
      : `, and move the later segments (${later.map((other) => basename(other.file)).join(', ')}) out of the folder`;
  return (
    `${damaged}; the journal cannot be replayed past it. Keep a copy of the data folder, then either ` +
    'restore it from a backup, or start with the changes before this line by cutting the file to its ' +
    `first ${offset} bytes (truncate -s ${offset} ${shellQuoted(segment.file)})${moveLater}: the changes ` +
    'after it are then lost'
  );
}

function shellQuoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Keeps a torn line's bytes beside its segment, the name made durable too, before the cut. */
async function keepCopy(segmentFile: string, bytes: Buffer, dir: string): Promise<TornLine['copy']> {
  const file = `${segmentFile}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  let created = false;
  try {
    // 'wx': a name no file has yet (it holds the time), so nothing planted there is followed, and
    // whatever is there is not ours to remove when this fails.
    const handle = await open(file, 'wx', 0o600);
    created = true;
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await syncFolder(dir);
    return { file };
  } catch (error) {
    if (created) await unlink(file).catch(() => undefined);
    return { failed: (error as Error).message };
  }
}

async function truncateFile(file: string, length: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
