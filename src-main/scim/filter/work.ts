import { ScimError } from '../errors';

/**
 * How long one request's list may spend matching its filter. A list runs on the event loop that
 * serves every tenant: a `.search` of 300 `co` terms over 100,000 users held it for 4.6 s, and 300
 * terms over five groups of 100,000 members for 3.9 s. A count of comparisons was tried first and
 * refused what it should not: `members eq "u"`, answered by the members index, still walks each
 * candidate group's members, cheap `===` steps that a count weighs like a folded `co`. Time is what
 * the budget is for, as a database's statement timeout is. A second is far above any filter an IdP
 * sends (a term or two over 100,000 users takes 0.2 s here, most of that the scan itself; 300
 * terms are now refused after 1 s, `members eq` over a group of 100,000 answers in 0.18 s).
 * RFC 7644 §3.12 names the refusal: `tooMany`, "more results than the server is willing to
 * calculate or process".
 */
export const MAX_FILTER_MS = 1_000;
/** Comparisons between two looks at the clock: a look costs more than a comparison. */
const CHECK_EVERY = 1024;

/** The time one request's list has spent matching, across every resource type it reads. */
export class FilterWork {
  private comparisons = 0;
  private readonly started: number;

  constructor(
    readonly budgetMs = MAX_FILTER_MS,
    private readonly now: () => number = () => performance.now(),
    private readonly every = CHECK_EVERY,
  ) {
    this.started = now();
  }

  /** One more comparison; past the budget the list is refused. */
  count(): void {
    if (++this.comparisons % this.every !== 0) return;
    const spent = this.now() - this.started;
    if (spent > this.budgetMs) throw tooMuchWork(this.budgetMs, this.comparisons);
  }
}

function tooMuchWork(budgetMs: number, comparisons: number): ScimError {
  return ScimError.badRequest(
    'tooMany',
    `The filter was still being matched after ${budgetMs.toLocaleString('en-US')} ms ` +
      `(${comparisons.toLocaleString('en-US')} values compared), the most one list may take. Use fewer ` +
      'comparisons, or ones an index answers (id, userName, externalId or emails.value eq; displayName ' +
      'or members.value eq for groups).',
  );
}
