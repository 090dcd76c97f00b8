/** Errors of the durable store. Messages name the file (and line) so that an admin can act on them. */

/** The store cannot open: a corrupt journal, an invalid snapshot, an unknown version. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

/** Another live process holds the data folder. */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  constructor(
    message: string,
    readonly pid: number,
    readonly dataDir: string,
  ) {
    super(message);
  }
}

/** A change does not fit the state (missing tenant or document, a document without its key fields). */
export class StoreDataError extends Error {
  override readonly name: string = 'StoreDataError';
}

/**
 * The tenant a write was for does not exist (any more): deleted while the request was under way,
 * between its checks and its write. The caller's mistake in effect, not the store's: a 404.
 */
export class StoreNoTenantError extends StoreDataError {
  override readonly name = 'StoreNoTenantError';
  constructor(readonly tenantId: string) {
    super(`no tenant ${tenantId}`);
  }
}

/**
 * A journal write or fsync failed. What is in memory may no longer match the disk, so the store
 * refuses everything after it; the process should exit and reopen, which recovers from the disk
 * (the same choice PostgreSQL makes on an fsync failure).
 */
export class StoreFailedError extends Error {
  override readonly name = 'StoreFailedError';
}

/** The store was closed. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
}

/**
 * What a service still held when it closed (request log entries, history records buffered while
 * the disk was full or read-only) could not be written, and is lost. Said at the stop, whose exit
 * is then not the clean one: a stop that exited 0 had dropped them without a word.
 */
export class NotWrittenOnCloseError extends Error {
  override readonly name = 'NotWrittenOnCloseError';

  /** "3 request log entries could not be written and are lost (segment write: ENOSPC…)". */
  static lost(count: number, one: string, many: string, lastError: string | null): NotWrittenOnCloseError {
    const what = count === 1 ? `${one} could not be written and is` : `${many} could not be written and are`;
    return new NotWrittenOnCloseError(`${count} ${what} lost (${lastError ?? 'no error was reported'})`);
  }
}
