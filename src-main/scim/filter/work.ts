import { ScimError } from '../errors';

/**
 * How long one request's list may spend comparing values with its filter. A list runs on the event
 * loop that serves every tenant: a `.search` of 300 `co` terms over 100,000 users held it for 4.6 s,
 * and 300 terms over five groups of 100,000 members for 3.9 s. A count of comparisons was tried
 * first and refused what it should not: `members eq "u"`, answered by the members index, still walks
 * each candidate group's members, cheap `===` steps that a count weighs like a folded `co`. Time is
 * what the budget is for, as a database's statement timeout is, but only the matching's: loading
 * the resources (the scan) is paused out, or a one-term filter over 500,000 users was refused for
 * the scan alone (found in review). A second is far above any filter an IdP sends. RFC 7644 §3.12
 * names the refusal: `tooMany`, "more results than the server is willing to calculate or process".
 */
export const MAX_FILTER_MS = 1_000;
/** Comparisons between two looks at the clock: a look costs more than a comparison. */
const CHECK_EVERY = 1024;

/** The time one request's list has spent comparing, across every resource type it reads. */
export class FilterWork {
  private comparisons = 0;
  /** Time counted before the last pause. */
  private banked = 0;
  /** When the running stretch began; undefined while paused. */
  private since: number | undefined;

  constructor(
    /** A monotonic clock in milliseconds, passed in: the core reads none of its own. */
    private readonly now: () => number,
    readonly budgetMs = MAX_FILTER_MS,
    private readonly every = CHECK_EVERY,
    /** The refusal past the budget; a list whose work is its sortBy's says so (see sortTooCostly). */
    private readonly refusal: (budgetMs: number, comparisons: number) => ScimError = tooMuchWork,
  ) {
    this.since = now();
  }

  /** Runs `step` with the clock stopped: loading a resource is the scan's cost, not the filter's. */
  outside<T>(step: () => T): T {
    this.pause();
    try {
      return step();
    } finally {
      this.resume();
    }
  }

  private pause(): void {
    if (this.since === undefined) return;
    this.banked += this.now() - this.since;
    this.since = undefined;
  }

  private resume(): void {
    this.since ??= this.now();
  }

  /** One more comparison; past the budget the list is refused. */
  count(): void {
    if (++this.comparisons % this.every !== 0) return;
    const spent = this.banked + (this.since === undefined ? 0 : this.now() - this.since);
    if (spent > this.budgetMs) throw this.refusal(this.budgetMs, this.comparisons);
  }
}

function tooMuchWork(budgetMs: number, comparisons: number): ScimError {
  return ScimError.badRequest(
    'tooMany',
    `Matching the filter took more than ${budgetMs.toLocaleString('en-US')} ms ` +
      `(${comparisons.toLocaleString('en-US')} values compared), the most one list may take. Use fewer ` +
      'comparisons, or add one an index answers, so fewer resources are compared: id, userName or ' +
      'externalId eq, userName sw, emails.value eq; for groups id, displayName, externalId or members.value eq.',
  );
}

/**
 * The refusal of a list whose work past the budget went into what its sortBy reads (a user's
 * groups, a version's digest), not into a filter: "Matching the filter took…" of a request with
 * no filter sent its sender looking for one (scale probe).
 */
export function sortTooCostly(sortBy: string): (budgetMs: number, comparisons: number) => ScimError {
  return (budgetMs) =>
    ScimError.badRequest(
      'tooMany',
      `Working out sortBy=${sortBy} for every resource took more than ${budgetMs.toLocaleString('en-US')} ms, ` +
        'the most one list may take: it is derived when read, not stored. Sort by an attribute stored as it ' +
        'is (userName or displayName, meta.created, meta.lastModified), or narrow the list with a filter ' +
        'an index answers.',
    );
}
