import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { StoreOpenError } from './store/errors';

/** The folders scimdesk keeps in its data folder, beside its files. */
export const HISTORY_FOLDER = 'history';
export const REQUEST_LOG_FOLDER = 'request-log';

/**
 * The default data folder: SCIMDESK_DATA_DIR, else the OS app-data folder (DESIGN.md §3). The
 * Electron shell and the CLI share this rule, so both modes open the same installation.
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
  givenHome = homedir(),
): string {
  // Resolved as --data is, so messages name the folder whatever the working directory was.
  if (env.SCIMDESK_DATA_DIR) return resolveDataDir(env.SCIMDESK_DATA_DIR, givenHome);
  const home = homeFolder(givenHome);
  if (platform === 'win32') return join(absoluteOr(env.APPDATA, join(home, 'AppData', 'Roaming')), 'scimdesk');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'scimdesk');
  return join(absoluteOr(env.XDG_CONFIG_HOME, join(home, '.config')), 'scimdesk');
}

/**
 * A data folder as given, resolved; `~` or `~/…` is the home folder, as a shell would have read it.
 * A shell leaves `--data=~/lab` (the `=` form) and a quoted "~/lab" alone, and a service manager's
 * SCIMDESK_DATA_DIR too: the server then made a folder named `~` in the working directory
 * (admin probe, session 40). `~name` is left as it is: whose home it means is the shell's to know.
 */
export function resolveDataDir(given: string, home = homedir()): string {
  const tilde = /^~(?=$|[\\/])/;
  return resolve(tilde.test(given) ? given.replace(tilde, () => homeFolder(home)) : given);
}

/**
 * The XDG base-directory spec: an empty or relative value is ignored. Taken as given, it made the
 * folder depend on the working directory, so `serve` and `admin-token` run from two places split
 * one installation into two, each with its own key.
 */
function absoluteOr(value: string | undefined, fallback: string): string {
  return value && isAbsolute(value) ? value : fallback;
}

/**
 * `os.homedir()` is `HOME` as given, "" and `relhome` included, which made the folder depend on
 * the working directory as a relative XDG variable did. Such a `HOME` gives way to the account's
 * own home folder, as an unset one does.
 */
function homeFolder(given: string): string {
  if (isAbsolute(given)) return given;
  try {
    const own = userInfo().homedir;
    if (isAbsolute(own)) return own;
  } catch {
    // No account entry (a container's arbitrary uid): the given folder, resolved, is all there is.
  }
  return resolve(given);
}

/** A data folder that cannot be created or written, said in its terms rather than a syscall's. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

/** What a failed create or write in the data folder says of the folder, by error code. */
const DATA_DIR_PROBLEMS: Readonly<Record<string, string>> = {
  EEXIST: 'it, or a folder above it, is a file',
  // From creating the folder (makeFolder): its parent exists, yet the file system will not make it.
  ENOENT: 'it cannot be created there',
  ENOTDIR: 'it, or a folder above it, is a file',
  EACCES: 'permission denied; it must be writable by this user',
  EPERM: 'permission denied; it must be writable by this user',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
};

/** Whether an error says the data folder itself cannot be used (see DATA_DIR_PROBLEMS). */
export function isDataDirProblem(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && Object.hasOwn(DATA_DIR_PROBLEMS, code);
}

function problemOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && DATA_DIR_PROBLEMS[code]) || (error as Error).message;
}

/**
 * The data folder, or a folder above it, as a symbolic link to nothing: creating the folder fails
 * with ENOENT though the link is there, and "it cannot be created there" sent the user looking at
 * the wrong place. Returns the link and what it points to.
 */
function danglingLinkOnPath(dataDir: string): { link: string; target: string } | undefined {
  for (let at = resolve(dataDir); ; at = dirname(at)) {
    try {
      if (lstatSync(at).isSymbolicLink()) return existsSync(at) ? undefined : { link: at, target: readlinkSync(at) };
      return undefined;
    } catch {
      // Not there at all: its parent may be the link.
    }
    if (dirname(at) === at) return undefined;
  }
}

export function unusableDataDir(dataDir: string, error: unknown): DataDirError {
  const { code, path } = error as NodeJS.ErrnoException;
  const dangling = code === 'ENOENT' ? danglingLinkOnPath(dataDir) : undefined;
  const why =
    dangling === undefined
      ? problemOf(error)
      : `${resolve(dangling.link) === resolve(dataDir) ? 'it' : dangling.link} is a symbolic link to ` +
        `${dangling.target}, which does not exist`;
  // A file inside the folder (a db.json left owned by root by a `sudo` run) is named: the remedy
  // may be to fix that file rather than to choose another folder.
  const fileDenied = (code === 'EACCES' || code === 'EPERM') && path !== undefined;
  const where = fileDenied && resolve(path) !== resolve(dataDir) ? ` (at ${path})` : '';
  return new DataDirError(
    `cannot use ${dataDir} as the data folder: ${why}${where} (fix that, or choose another folder with --data)`,
    { cause: error },
  );
}

/** Failures that are the whole folder's, whichever file met them first (a full or read-only disk). */
const FOLDER_WIDE = new Set(['ENOSPC', 'EROFS', 'EACCES', 'EPERM']);

export function isFolderWide(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && FOLDER_WIDE.has(code);
}

/** What a failed write says of the folder (`the disk is full`), with the file it failed on. */
export function dataDirProblemOf(error: unknown): string {
  const { path } = error as NodeJS.ErrnoException;
  return path === undefined ? problemOf(error) : `${problemOf(error)} (at ${path})`;
}

/**
 * A start that failed on a full, read-only or forbidden data folder, said of the folder; any other
 * failure as it is (a file in the way names its own path better than the folder would).
 */
export function startFailure(dataDir: string, error: unknown): unknown {
  return isFolderWide(error) ? unusableDataDir(dataDir, error) : error;
}

/**
 * Refuses to start a store that was never written to (no db.json, an empty or missing journal) in
 * a folder whose resource history holds changes: only writes make history, so the store's files
 * were deleted or moved, and starting would serve an empty server over a folder that had data (a
 * crash-probing helper saw exactly that). The request log is no such sign: reads alone fill it.
 */
export async function refuseEmptyStoreOverHistory(dataDir: string, storeSeq: number): Promise<void> {
  if (storeSeq > 0) return;
  const history = join(dataDir, HISTORY_FOLDER);
  const names = await readdir(history).catch(() => [] as string[]);
  for (const name of names.filter((file) => file.endsWith('.jsonl'))) {
    const size = await stat(join(history, name)).then(
      (info) => info.size,
      () => 0,
    );
    if (size === 0) continue;
    throw new StoreOpenError(
      `${dataDir} has a resource history (${history}) but no store: db.json and the journal are missing ` +
        'or empty, so they were deleted or moved. Put them back, from a backup if need be; to start over ' +
        `instead, delete ${history} and ${join(dataDir, REQUEST_LOG_FOLDER)} as well`,
    );
  }
}
