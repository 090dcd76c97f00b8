/**
 * The checker's vocabulary: a profile is a list of steps (data), the runner turns each into a
 * StepResult, and the report is what both the CLI and a future UI render. Plain data throughout,
 * so `--json` is `JSON.stringify(report)` and a UI can consume the same events.
 */

export type ProfileName = 'rfc' | 'entra' | 'okta';
export const PROFILE_NAMES: readonly ProfileName[] = ['rfc', 'entra', 'okta'];

/** A required step failing fails the run; a recommended one only warns. */
export type Level = 'required' | 'recommended';
export type Verdict = 'pass' | 'fail' | 'warning' | 'skipped';

/** JSON as sent and compared; strings may hold `{{var}}` templates in step definitions. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** What the server declares in /ServiceProviderConfig; steps may depend on a feature. */
export type Feature = 'patch' | 'filter' | 'bulk' | 'sort' | 'etag';

/** A named check beyond status and shape, for what data cannot say (paging arithmetic). */
export interface CustomCheck {
  readonly level: Level;
  readonly describe: string;
  /** Returns a failure message, or undefined when satisfied. */
  readonly test: (body: unknown, vars: Readonly<Record<string, string>>) => string | undefined;
}

export interface Expectation {
  /** Acceptable statuses; the first is the one the report names as expected. */
  readonly status: number | readonly number[];
  /** The body's shape, parsed with zod: a resource, a ListResponse or a SCIM error. */
  readonly body?: 'resource' | 'list' | 'error';
  /** A subset the body must contain (objects by key, arrays by "some element matches"). */
  readonly match?: Json;
  /** Dotted paths that must not be in the body (`password`, `members`). */
  readonly absent?: readonly string[];
  /** Response headers that must be present (lower-case names). */
  readonly headers?: readonly string[];
  readonly checks?: readonly CustomCheck[];
}

/** A step's stand-in for the token (see StepDefinition.credential). */
export type Credential = 'none' | 'invalid';

export interface StepDefinition {
  /** Stable machine name, `users.create`; tests and UIs refer to steps by it. */
  readonly id: string;
  /** What it does, in the words of the source it is modelled on. */
  readonly name: string;
  readonly level: Level;
  /** Why it matters and where it comes from (RFC section or vendor documentation). */
  readonly why: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to the base URL; `{{var}}` values are URL-encoded when substituted. */
  readonly path: string;
  /** Query parameters, encoded by the runner (`%20`, never `+`, which some servers read literally). */
  readonly query?: Readonly<Record<string, string>>;
  /** A JSON body with templates, or raw text (for malformed-JSON checks). */
  readonly body?: Json | { readonly raw: string };
  /**
   * What to send instead of the token: no Authorization header (`none`), or a credential no server
   * issues (`invalid`: `Authorization: non-token`, as Okta's SCIM spec tests send).
   */
  readonly credential?: Credential;
  readonly expect: Expectation;
  /** Extra expectations whose failure is only a warning (RFC SHOULDs, vendor niceties). */
  readonly advise?: Omit<Expectation, 'status'> & { readonly status?: number | readonly number[] };
  /** Variables taken from the response body by dotted path (`Resources.0.id`). */
  readonly capture?: Readonly<Record<string, string>>;
  /** The step creates a resource of this type: remember its id for cleanup. */
  readonly creates?: 'User' | 'Group';
  /** The step deletes the resource whose id is in this variable: forget it on success. */
  readonly deletes?: string;
  /** Run only when the server declares this feature (skipped, not failed, otherwise). */
  readonly requires?: Feature;
  /** Read the /ServiceProviderConfig features from this step's response. */
  readonly discovers?: boolean;
  /**
   * The id of an earlier step of the profile whose outcome this one reads back. When that step's
   * expectations did not hold, this one is skipped, saying so: `clear-manager-applied` passed on a
   * server that had never stored the manager, and a member "still listed after its removal" cannot
   * be told of a member that was never stored.
   */
  readonly needs?: string;
  /**
   * The id of the earlier write this step reads back. When that write was refused (no 2xx answer),
   * this one is skipped, saying so: there is nothing stored to read, and counting the write's
   * failure again as "not stored" made one fault two in the summary. A write that was accepted
   * but answered wrongly is still read back: what was stored is what this step is for.
   */
  readonly readsBack?: string;
}

export interface Profile {
  readonly name: ProfileName;
  readonly title: string;
  /** The documents the sequence is modelled on. */
  readonly sources: readonly string[];
  readonly steps: readonly StepDefinition[];
}

export interface Finding {
  readonly level: Level;
  readonly message: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  /** Authorization redacted. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface RecordedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON when it parses, else the text (truncated). */
  readonly body?: unknown;
}

export interface Exchange {
  readonly request: RecordedRequest;
  /** Absent when the request never got an answer (timeout, refused connection). */
  readonly response?: RecordedResponse;
  readonly error?: string;
  readonly durationMs: number;
}

export interface StepResult {
  readonly profile: ProfileName;
  readonly id: string;
  readonly name: string;
  readonly level: Level;
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  readonly expected: {
    readonly status: readonly number[];
    readonly body?: string;
    readonly match?: unknown;
    readonly absent?: readonly string[];
  };
  readonly exchange?: Exchange;
  readonly skippedReason?: string;
}

export interface CleanupResult {
  readonly kept: boolean;
  readonly deleted: number;
  readonly failures: readonly { readonly type: string; readonly id: string; readonly detail: string }[];
  /** Resources left behind on purpose (`--keep`) or because deleting them failed. */
  readonly remaining: readonly { readonly type: string; readonly id: string }[];
  /** Resources the run created whose id the server's answer did not name (no id, no Location): left. */
  readonly unnamed: number;
}

export interface Summary {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly warnings: number;
  readonly skipped: number;
  /** Every required step passed (or warned). */
  readonly ok: boolean;
}

export interface CheckReport {
  readonly tool: 'scimdesk check';
  readonly reportVersion: 1;
  readonly target: string;
  readonly profiles: readonly ProfileName[];
  /** The unique suffix in every name this run created. */
  readonly runId: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly steps: readonly StepResult[];
  readonly cleanup: CleanupResult;
  readonly summary: Summary;
  /** Present (true) when the run was stopped by its caller (Ctrl-C): the steps after it were not run. */
  readonly interrupted?: true;
}

/** Progress for a UI or a terminal, in order: start, step…, cleanup, done. */
export type CheckEvent =
  | {
      readonly type: 'start';
      readonly target: string;
      readonly profiles: readonly ProfileName[];
      readonly total: number;
    }
  | { readonly type: 'step'; readonly index: number; readonly total: number; readonly result: StepResult }
  | { readonly type: 'cleanup'; readonly result: CleanupResult }
  | { readonly type: 'done'; readonly report: CheckReport };
