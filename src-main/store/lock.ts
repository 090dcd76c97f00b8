/**
 * One server per data folder (DESIGN.md §4).
 *
 * The lock is a file, `scimdesk.lock`, holding the owner's pid and host. It is created atomically
 * with its content (written under a private name, then hard-linked into place; link fails when the
 * name exists), so nobody ever reads a half-written lock. A lock whose process is gone (a crash, a
 * `kill -9`) is stale and is taken over; one whose process lives is refused with its pid.
 *
 * A lock naming this very process is live only if this process wrote it (it remembers the exact
 * contents, which carry a random nonce, whatever path the folder was named by): in a container the
 * server is often PID 1 on every start, so after a `kill -9` the stale lock names the new process's
 * own pid, and probing that pid would call it live forever (a restart loop).
 *
 * Limits, stated: a lock from another host cannot be checked and is refused; a dead owner's pid
 * reused by an unrelated process makes the lock look live (the message says how to remove it); two
 * containers sharing one data volume *and* one host name (host networking, a fixed `hostname:`),
 * both running the server as PID 1, cannot tell each other's live lock from a stale one of their own.
 * The admin-token signing key in the same folder is read without this lock, by design (DESIGN.md §3).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { link, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { unusableDataDir } from '../data-dir';
import { join } from 'node:path';
import { StoreLockedError, StoreOpenError } from './errors';
import { isErrno, makeFolder } from './fs-util';

export const LOCK_FILE = 'scimdesk.lock';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
  /** Random: tells this process's own lock from a stale one that names the same pid. */
  nonce?: string;
}

export interface DataDirLock {
  readonly file: string;
  release(): Promise<void>;
}

/** The contents of the locks this process holds: the only locks naming our own pid that are live. */
const heldHere = new Set<string>();

/** The contents of this process's locks-to-be while it holds a takeover guard with them. */
const takingOverHere = new Set<string>();

/** Takeover attempts when several processes find the same stale lock at once. */
const ATTEMPTS = 50;
/** How long a process waits for another's takeover (a few file operations) before it looks again. */
const TAKEOVER_WAIT_MS = 10;
/** A takeover guard this old was left by a process that died in the middle of one. */
const STALE_GUARD_MS = 10_000;

export async function acquireLock(dataDir: string): Promise<DataDirLock> {
  await makeFolder(dataDir, 0o700).catch((error: unknown) => {
    throw unusableDataDir(dataDir, error);
  });
  const file = join(dataDir, LOCK_FILE);
  const mine: LockOwner = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  const content = `${JSON.stringify(mine)}\n`;
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  await writeFile(temporary, content, { mode: 0o600, flag: 'wx' }).catch(async (error: unknown) => {
    // Created, then not written (a full disk): left behind, it was never removed by any later start.
    await unlink(temporary).catch(() => undefined);
    throw unusableDataDir(dataDir, error);
  });
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await link(temporary, file);
        heldHere.add(content);
        await clearGuards(dataDir);
        return { file, release: () => releaseLock(file, content) };
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
      const seen = await readFile(file, 'utf8').catch((error: unknown) => {
        if (isErrno(error, 'ENOENT')) return undefined; // released meanwhile: try again
        throw error;
      });
      if (seen === undefined) continue;
      const owner = parseOwner(seen);
      if (owner && isLive(owner, seen)) throw lockedBy(owner, dataDir, file);
      await takeOver(file, seen, temporary, content);
    }
    throw new StoreOpenError(
      `could not take the lock ${file}: other processes keep taking it over (if no other scimdesk is ` +
        `starting on ${dataDir}, delete ${file} and any ${LOCK_FILE}.takeover.* beside it)`,
    );
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

function lockedBy(owner: LockOwner, dataDir: string, file: string): StoreLockedError {
  return new StoreLockedError(
    `data folder ${dataDir} is in use by scimdesk process ${owner.pid}` +
      `${owner.host === hostname() ? '' : ` on host ${owner.host}`} since ${owner.since}; ` +
      `stop it first (or, if no such server runs, delete ${file})`,
    owner.pid,
    dataDir,
  );
}

/**
 * The error `acquireLock` would give for a folder a live process holds, without taking anything:
 * for a start that failed for another reason (its port is in use) which is most likely the same
 * server, already running, and should say so.
 */
export async function liveHolderOf(dataDir: string): Promise<StoreLockedError | undefined> {
  const file = join(dataDir, LOCK_FILE);
  const seen = await readFile(file, 'utf8').catch(() => undefined);
  const owner = seen === undefined ? undefined : parseOwner(seen);
  // Only a holder on this host can be what holds this host's port.
  return owner && owner.host === hostname() && isLive(owner, seen!) ? lockedBy(owner, dataDir, file) : undefined;
}

/**
 * Removes a stale lock, under a guard only one process holds, and only while the lock still holds
 * what was read as stale. The guard is what makes that check and the removal one step: without it,
 * a process acting on a stale lock it read earlier moved aside the fresh lock another had just
 * taken, and while it put it back a third took the folder too, so two servers held it (a
 * crash-probing helper saw it in 3 of 90 starts of 8 processes at once). With it, only the guard's
 * holder removes a lock, and no lock can appear while the stale one is there, so nothing changes
 * between the check and the removal.
 *
 * Guards are named after the stale lock they are for, with a generation: `scimdesk.lock.takeover.
 * <digest>.<n>`, hard-linked from the taker's lock contents. A guard whose holder died in the middle
 * (a takeover takes milliseconds) is never removed while others contend; they take the next
 * generation instead. Removing it is what had a window: two processes that both read it as dead,
 * one removes it, a third links a fresh guard, and the second's removal (a read, then an unlink)
 * takes the fresh one away, so two took over at once. A holder releases its guard once the stale
 * lock is gone (it removed it, or found it changed), so a generation taken again protects nothing;
 * the process that gets the lock clears the abandoned ones, which by then name a lock that is gone.
 */
async function takeOver(file: string, staleContent: string, mine: string, mineContent: string): Promise<void> {
  const prefix = guardPrefix(file, staleContent);
  for (let generation = 0; generation < ATTEMPTS; generation++) {
    const guard = `${prefix}${generation}`;
    try {
      await link(mine, guard);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      if (await isAbandoned(guard)) continue;
      // Another process is taking over: wait, then look at the lock again.
      await new Promise((resolve) => setTimeout(resolve, TAKEOVER_WAIT_MS));
      return;
    }
    takingOverHere.add(mineContent);
    try {
      const current = await readFile(file, 'utf8').catch((error: unknown) => {
        if (isErrno(error, 'ENOENT')) return undefined;
        throw error;
      });
      if (current === staleContent) await unlink(file);
    } finally {
      takingOverHere.delete(mineContent);
      await unlinkIfHolds(guard, mineContent);
    }
    return;
  }
  throw new StoreOpenError(`could not take over the stale lock ${file}: every takeover of it was abandoned`);
}

/** The name, less its generation, of the guards for taking over a lock that holds `staleContent`. */
export function guardPrefix(file: string, staleContent: string): string {
  return `${file}.takeover.${createHash('sha256').update(staleContent).digest('hex').slice(0, 16)}.`;
}

/**
 * A guard whose holder is dead, or that is 10 s old: a takeover takes milliseconds, so a holder that
 * old is gone, and a live process under its pid is another one that reused it (kept as live, such a
 * guard blocked every start for good). From another host, where a pid cannot be checked, age alone
 * tells. One that vanished meanwhile was cleared by a process that got the lock: nothing is left to guard.
 */
async function isAbandoned(guard: string): Promise<boolean> {
  const [content, info] = await Promise.all([
    readFile(guard, 'utf8').catch(() => undefined),
    stat(guard).catch(() => undefined),
  ]);
  if (content === undefined || info === undefined) return true;
  const owner = parseOwner(content);
  if (owner === undefined) return true;
  // Its age by the time its taker wrote in it (a clock of the same host for a guard of this host),
  // not the file's, which a network file system's clock stamps: skewed, fresh guards looked old.
  const written = Date.parse(owner.since);
  if (Date.now() - (Number.isNaN(written) ? info.mtimeMs : written) > STALE_GUARD_MS) return true;
  if (owner.host !== hostname()) return false;
  if (owner.pid === process.pid) return !takingOverHere.has(content);
  return !isLive(owner, content);
}

/**
 * Called once this process holds the lock: every guard names a lock that is gone (the stale one was
 * removed, or the lock could not have been taken), so any process still holding one finds the lock
 * changed and removes nothing. Guards of earlier builds (`scimdesk.lock.takeover`) go too.
 */
async function clearGuards(dataDir: string): Promise<void> {
  const names = await readdir(dataDir).catch(() => []);
  await Promise.all(
    names
      .filter((name) => name.startsWith(`${LOCK_FILE}.takeover`))
      .map((name) => unlink(join(dataDir, name)).catch(() => undefined)),
  );
}

async function releaseLock(file: string, content: string): Promise<void> {
  heldHere.delete(content);
  // Only remove the lock if it is still ours (someone may have wrongly deleted and retaken it).
  await unlinkIfHolds(file, content);
}

/** Removes `path` if it (still) holds `content`; anything else there is someone else's. */
async function unlinkIfHolds(path: string, content: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === content) await unlink(path).catch(() => undefined);
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && typeof value.host === 'string') {
      return { pid: value.pid, host: value.host, since: String(value.since ?? 'an unknown time') };
    }
  } catch {
    // An unreadable lock has no live owner to protect; it is treated as stale.
  }
  return undefined;
}

function isLive(owner: LockOwner, content: string): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return heldHere.has(content);
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user — still alive.
    return !isErrno(error, 'ESRCH');
  }
  const seen = linuxProcess(owner.pid);
  if (seen?.zombie) return false;
  // A process that began after the lock was written did not write it: its pid was given again
  // after the holder died (a kill -9, then a reboot or a wrap-around), and an unrelated `sleep`
  // kept the folder locked (durability probe). Only for one that is no scimdesk: a wall clock
  // stepped forward since the holder started moves its start past the lock's time too, and
  // taking a live server's folder would make two writers of one journal.
  const since = Date.parse(owner.since);
  const startedLater =
    seen?.startedAt !== undefined && Number.isFinite(since) && seen.startedAt > since + START_SLACK_MS;
  return !(startedLater && seen?.scimdesk === false);
}

/** The boot time in /proc/stat has whole seconds; a process's start is told in 10 ms ticks. */
const START_SLACK_MS = 2_000;
/** Linux's USER_HZ: /proc counts a process's start in hundredths of a second on every architecture. */
const TICKS_PER_SECOND = 100;

/**
 * What Linux's /proc says of a process: whether it exited but its parent has not reaped it (state
 * `Z`: it still answers signal 0 though it holds nothing, so a server that died under a shell or
 * supervisor that has not waited for it kept its folder locked), when it started (epoch ms), and
 * whether it runs scimdesk.
 * Undefined elsewhere or when /proc cannot be read: the owner then counts as alive.
 */
function linuxProcess(
  pid: number,
): { zombie: boolean; startedAt: number | undefined; scimdesk: boolean | undefined } | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) state …": comm may hold spaces and parentheses, so read after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field 22 of the line, starttime: ticks after boot. Field 3, the state, is the first here.
    const ticks = Number(fields[19]);
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'))?.[1]);
    const startedAt =
      Number.isFinite(ticks) && Number.isFinite(bootSeconds)
        ? bootSeconds * 1000 + (ticks / TICKS_PER_SECOND) * 1000
        : undefined;
    return { zombie: fields[0] === 'Z', startedAt, scimdesk: runsScimdesk(pid) };
  } catch {
    return undefined;
  }
}

/** Whether a process's command line names scimdesk (`node bin/scimdesk.js`, the desktop app); undefined when unreadable. */
function runsScimdesk(pid: number): boolean | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').toLowerCase().includes('scimdesk');
  } catch {
    return undefined;
  }
}
