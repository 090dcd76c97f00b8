import { ScimError } from '../errors';

/**
 * Comparisons one list may make: each value a filter's term is checked against counts one (a
 * group's 100,000 members under `members co "x"` are 100,000). A list runs on the event loop that
 * serves every tenant: a `.search` of 300 `co` terms over 100,000 users held it for 4.6 s, and 300
 * terms over five groups of 100,000 members for 3.9 s. Three million cost about 0.6 s here on top of
 * the scan itself (0.35 s for 100,000 users: 30 `co` terms over them answered in 0.9 s), and is far above any filter an IdP sends (a term or two over any directory, or many terms an index
 * answers: `userName eq "a" or userName eq "b" …`). RFC 7644 §3.12 names the refusal: `tooMany`,
 * "more results than the server is willing to calculate or process".
 */
export const MAX_FILTER_CHECKS = 3_000_000;

/** The comparisons made so far for one request's list, across every resource type it reads. */
export class FilterWork {
  private checks = 0;

  constructor(readonly budget = MAX_FILTER_CHECKS) {}

  /** One more comparison; past the budget the list is refused. */
  count(): void {
    if (++this.checks > this.budget) throw tooMuchWork(this.budget);
  }
}

function tooMuchWork(budget: number): ScimError {
  return ScimError.badRequest(
    'tooMany',
    `The filter needs more than the ${budget.toLocaleString('en-US')} value comparisons one list may make. ` +
      'Use fewer comparisons, or ones an index answers (id, userName, externalId or emails.value eq; ' +
      'displayName or members.value eq for groups).',
  );
}
