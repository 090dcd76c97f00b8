import type { Context } from 'koa';

/** How long one fault's description may be: an error message can quote what it failed on. */
const MAX_FAULT_CHARS = 1_000;
/** How many of a Bulk request's faults are described; the rest are counted. */
const MAX_FAULTS_LISTED = 3;

interface FaultState {
  /** What failed inside the server while answering, described for the request log. */
  serverFaults?: string[];
  serverFaultsUnlisted?: number;
}

/**
 * An error the client was not shown, as its name and message (and those of its `cause`): the
 * request log's reader is the server's owner, who needs "journal write failed: ENOSPC…" where the
 * IdP was told only "restart scimdesk". No stack: the log is served over the admin API, and where
 * in the code it failed is in the server's console log.
 */
export function describeFault(error: unknown): string {
  const said = saidOf(error);
  const cause = error instanceof Error ? error.cause : undefined;
  // The journal's errors quote their cause's message already ("journal write failed: ENOSPC…").
  const quoted = cause instanceof Error && cause.message !== '' && said.includes(cause.message);
  const whole = cause === undefined || quoted ? said : `${said} (caused by ${saidOf(cause)})`;
  return whole.length > MAX_FAULT_CHARS ? `${whole.slice(0, MAX_FAULT_CHARS)}…` : whole;
}

function saidOf(error: unknown): string {
  if (error instanceof Error) return error.message ? `${error.name}: ${error.message}` : error.name;
  try {
    return `thrown ${typeof error}: ${String(error)}`;
  } catch {
    return `thrown ${typeof error}`;
  }
}

/** Notes a fault of this request for its log entry; `where` names a Bulk operation. */
export function noteServerFault(ctx: Context, error: unknown, where?: string): void {
  const state = ctx.state as FaultState;
  const faults = (state.serverFaults ??= []);
  if (faults.length >= MAX_FAULTS_LISTED) {
    state.serverFaultsUnlisted = (state.serverFaultsUnlisted ?? 0) + 1;
    return;
  }
  const described = describeFault(error);
  faults.push(where ? `${where}: ${described}` : described);
}

/** The request's faults as one text, or undefined when nothing failed inside the server. */
export function serverFaultsOf(ctx: Context): string | undefined {
  const { serverFaults, serverFaultsUnlisted } = ctx.state as FaultState;
  if (!serverFaults?.length) return undefined;
  const more = serverFaultsUnlisted ? `; ${serverFaultsUnlisted} more not listed` : '';
  return `${serverFaults.join('; ')}${more}`;
}
