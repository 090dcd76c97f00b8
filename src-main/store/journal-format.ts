/**
 * The journal on disk: segment files `journal-<first seq>.log`, each a list of lines
 * `<crc32 as 8 hex digits> <JSON record>\n`, one line per commit. The checksum tells a line that was
 * damaged after it was written from one that parses by luck; the number in the file name orders the
 * segments and says where each one starts.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { JournalRecord } from './documents';
import { parseJournalRecord } from './schemas';

const SEGMENT = /^journal-(\d{16})\.log$/;

/** Whether a file name is a journal segment's. */
export const isSegmentName = (name: string): boolean => SEGMENT.test(name);

export interface SegmentInfo {
  file: string;
  firstSeq: number;
  bytes: number;
}

export function segmentFile(dir: string, firstSeq: number): string {
  return join(dir, `journal-${String(firstSeq).padStart(16, '0')}.log`);
}

/** Segment files in the folder, oldest first (sizes are filled in by the reader). */
export async function listSegments(dir: string): Promise<SegmentInfo[]> {
  const names = await readdir(dir);
  const segments: SegmentInfo[] = [];
  for (const name of names) {
    const match = SEGMENT.exec(name);
    if (match?.[1]) segments.push({ file: join(dir, name), firstSeq: Number(match[1]), bytes: 0 });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

/**
 * One commit as a journal line. The changes arrive already serialised (the transaction serialised
 * each one as it was made), so a commit is never stringified twice.
 */
export function encodeRecord(seq: number, opsJson: readonly string[]): string {
  const json = `{"seq":${seq},"ops":[${opsJson.join(',')}]}`;
  return `${checksum(json)} ${json}\n`;
}

/**
 * The record on a line, or why there is none: `damaged` when the line fails its checksum (a torn or
 * corrupted write), `unknown` when it passes but is not a record this version reads. The second
 * was written whole, by a scimdesk that knew more kinds of change (a downgrade), and is never cut.
 */
export function readRecord(line: string): JournalRecord | 'damaged' | 'unknown' {
  if (line.length < 10 || line[8] !== ' ') return 'damaged';
  const json = line.slice(9);
  if (line.slice(0, 8) !== checksum(json)) return 'damaged';
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return 'unknown';
  }
  return parseJournalRecord(value) ?? 'unknown';
}

function checksum(json: string): string {
  return crc32(json).toString(16).padStart(8, '0');
}
