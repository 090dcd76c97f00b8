/**
 * Recovery: replays the journal segments over the snapshot.
 *
 * - Records up to the snapshot's `journalSeq` are already in it and are skipped (a checkpoint may
 *   have crashed after writing the snapshot and before deleting old segments).
 * - After that, sequence numbers must follow one another; a gap means a lost segment and stops the
 *   start rather than serving a state that never existed.
 * - The last line of the last segment may be torn (a crash in the middle of an append, which was
 *   therefore never acknowledged): it is dropped, and cut off the file so appends start clean.
 * - A damaged line anywhere else stops the start with the file and line number.
 */
import { open, readFile } from 'node:fs/promises';
import type { JournalRecord } from './documents';
import { StoreOpenError } from './errors';
import { decodeRecord, listSegments, type SegmentInfo } from './journal-format';

export interface ReplayResult {
  /** The last sequence number now in memory (the snapshot's when the journal adds nothing). */
  lastSeq: number;
  segments: SegmentInfo[];
  /** Set when a torn last line was cut off: where, and how many bytes. */
  truncated?: { file: string; line: number; bytes: number };
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
          await truncateFile(segment.file, start);
          truncated = { file: segment.file, line, bytes: buffer.length - start };
          segment.bytes = start;
          break;
        }
        throw new StoreOpenError(
          `${segment.file} line ${line} is damaged (checksum or format); the journal cannot be replayed past it`,
        );
      }
      if (record.seq > snapshotSeq) {
        if (record.seq !== lastSeq + 1) {
          throw new StoreOpenError(
            `${segment.file} line ${line} holds change ${record.seq} but ${lastSeq + 1} was expected; ` +
              'a journal segment is missing or out of order',
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

async function truncateFile(file: string, length: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
