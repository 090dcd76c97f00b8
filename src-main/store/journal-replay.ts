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
import { open, readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { JournalRecord } from './documents';
import { StoreOpenError } from './errors';
import { decodeRecord, listSegments, type SegmentInfo } from './journal-format';

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
  /** The line ended with a newline: whole, but failing its checksum or format. */
  complete: boolean;
  copy: string;
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
    const buffer = await readFile(segment.file);
    segment.bytes = buffer.length;
    let start = 0;
    for (let line = 1; start < buffer.length; line++) {
      const newline = buffer.indexOf(0x0a, start);
      const end = newline === -1 ? buffer.length : newline;
      const next = newline === -1 ? buffer.length : newline + 1;
      const record = newline === -1 ? undefined : decodeRecord(buffer.toString('utf8', start, end));
      if (!record) {
        if (isLastSegment && next >= buffer.length) {
          const copy = `${segment.file}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}`;
          await writeFile(copy, buffer.subarray(start), { mode: 0o600, flush: true });
          await truncateFile(segment.file, start);
          truncated = { file: segment.file, line, bytes: buffer.length - start, complete: newline !== -1, copy };
          segment.bytes = start;
          break;
        }
        throw new StoreOpenError(damagedLine(segment, line, start, segments.slice(s + 1)));
      }
      if (record.seq > snapshotSeq) {
        if (record.seq !== lastSeq + 1) {
          throw new StoreOpenError(
            `${segment.file} line ${line} holds change ${record.seq} but ${lastSeq + 1} was expected; ` +
              (lastSeq === 0
                ? 'no snapshot holds the changes before it (db.json is missing or was replaced by an empty ' +
                  'one): put back the db.json of this data folder, from a backup if need be'
                : 'a journal segment is missing or out of order'),
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

/**
 * A damaged line with records after it is not a crash's doing, and the start is refused. The message
 * says how to start anyway with the changes before it, which means giving up the ones after it.
 */
function damagedLine(segment: SegmentInfo, line: number, offset: number, later: readonly SegmentInfo[]): string {
  const moveLater =
    later.length === 0
      ? ''
      : `, and move the later segments (${later.map((other) => basename(other.file)).join(', ')}) out of the folder`;
  return (
    `${segment.file} line ${line} is damaged (checksum or format); the journal cannot be replayed past it. ` +
    'Keep a copy of the data folder, then either restore it from a backup, or start with the changes ' +
    `before this line by cutting the file there (truncate -s ${offset} '${segment.file}')${moveLater}: ` +
    'the changes after it are then lost'
  );
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
