/** The SCIM checker: profiles as data, a runner with progress events, a structured report. */
export { runCheck, newRunId, summarize, type CheckOptions } from './runner';
export { PROFILES } from './profiles/index';
export { formatCleanup, formatHeader, formatStep, formatSummary, type Style } from './format';
export type * from './types';
export { PROFILE_NAMES } from './types';
