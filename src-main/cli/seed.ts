import { SeedAuthError, SeedHttpError, seedScim, type SeedProgress, type SeedResult } from '../seed/index';
import { tokenFlag, urlFlag, type CommandIo } from './check';
import { listenForInterrupt } from './interrupt';
import { parseFlags } from './options';
import { SEED_HELP, UsageError } from './usage';

/** `scimdesk seed`: flags → the loader, with a progress bar on a terminal and plain lines otherwise. */

const VALUE_FLAGS = ['url', 'token', 'users', 'groups', 'seed', 'concurrency'];
const MAX_CONCURRENCY = 256;
/** Far beyond any demo; keeps a typo (an extra zero or three) from running for hours. */
const MAX_COUNT = 10_000_000;
const LINE_INTERVAL_MS = 5_000;

function countFlag(name: string, value: string | boolean | undefined, required: boolean): number | undefined {
  if (value === undefined) {
    if (required) throw new UsageError(`--${name} is required (a non-negative integer)`);
    return undefined;
  }
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) > MAX_COUNT) {
    throw new UsageError(`--${name} '${String(value)}' is not a non-negative integer (at most ${MAX_COUNT})`);
  }
  return Number(value);
}

export async function seedCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { flags, help } = parseFlags(args, VALUE_FLAGS, ['passwords']);
  if (help) {
    io.out(SEED_HELP);
    return 0;
  }
  const baseUrl = urlFlag(flags.url, (line) => io.err(`scimdesk seed: ${line}`));
  const token = tokenFlag(flags.token);
  const users = countFlag('users', flags.users, true)!;
  const groups = countFlag('groups', flags.groups, true)!;
  const concurrency = countFlag('concurrency', flags.concurrency, false);
  if (concurrency === 0) throw new UsageError('--concurrency must be at least 1');
  // Past this, more requests in flight only queue on the server and hold sockets and memory here
  // (100,000 was taken and opened that many requests at once).
  if (concurrency !== undefined && concurrency > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency ${concurrency} is more than ${MAX_CONCURRENCY} requests in flight`);
  }
  const seed = flags.seed === undefined ? '1' : String(flags.seed);
  if (seed.trim() === '') throw new UsageError('--seed needs a value');

  const progress = createProgress(io);
  const interrupt = listenForInterrupt((line) => {
    progress.finish();
    io.err(`scimdesk seed: ${line}`);
  }, 'sending nothing more; waiting for the requests under way to be answered');
  let result: SeedResult;
  try {
    result = await seedScim({
      baseUrl,
      token,
      users,
      groups,
      seed,
      passwords: flags.passwords === true,
      ...(concurrency === undefined ? {} : { concurrency }),
      onProgress: progress.update,
      signal: interrupt.signal,
    });
  } catch (error) {
    interrupt.dispose();
    progress.finish();
    if (error instanceof SeedAuthError || error instanceof SeedHttpError) {
      io.err(`scimdesk seed: ${error.message}`);
      return 1;
    }
    throw error;
  }
  interrupt.dispose();
  progress.finish();
  const via =
    result.mode === undefined
      ? 'no request, stopped before loading'
      : result.bulk
        ? `Bulk, ${result.bulk.requests} request(s)`
        : `${result.requests - result.probes} POST(s)`;
  io.out(
    (result.stoppedBy !== undefined ? 'stopped: ' : result.interrupted ? 'interrupted: ' : '') +
      `seeded ${result.usersCreated} users and ${result.groupsCreated} groups (${result.memberships} memberships) ` +
      `into ${baseUrl} in ${result.seconds.toFixed(1)} s via ${via}` +
      (result.retries > 0 ? `, ${result.retries} retries` : '') +
      (result.unconfirmed > 0
        ? `; ${result.unconfirmed} unconfirmed (sent, but the connection failed: they may exist)`
        : '') +
      (result.notSent > 0 ? `; ${result.notSent} not sent` : ''),
  );
  await io.flush();
  if (result.stoppedBy !== undefined) io.err(`scimdesk seed: ${result.stoppedBy}`);
  if ((result.interrupted || result.stoppedBy !== undefined) && result.usersCreated + result.groupsCreated > 0) {
    // The same seed makes the same userNames, which now exist: run again, it would conflict on each.
    io.err(
      'scimdesk seed: to load more, run it with another --seed (this one would give the names now taken), ' +
        'or delete the tenant and start again.',
    );
  }
  if (result.failed === 0) {
    if (result.stoppedBy !== undefined) return 1;
    return result.interrupted ? interrupt.exitCode() : 0;
  }
  io.err(`scimdesk seed: ${result.failed} of ${users + groups} could not be created:`);
  for (const failure of result.failures.slice(0, 10)) {
    io.err(`  ${failure.count} × ${failure.kind}${failure.example ? ` (e.g. ${failure.example})` : ''}`);
  }
  if (result.droppedReferences > 0) io.err(`  ${result.droppedReferences} manager/member references left out`);
  return result.interrupted ? interrupt.exitCode() : 1;
}

/**
 * A bar redrawn in place on a terminal; a plain line every few seconds when stderr is a file or pipe.
 * Also while no answer comes: a request of users with passwords can take a while, and the run was
 * silent for two minutes before it said anything (export probe, session 40).
 */
export function createProgress(
  io: CommandIo,
  intervalMs = LINE_INTERVAL_MS,
): { update: (p: SeedProgress) => void; finish: () => void } {
  let lastLine = -Infinity;
  let changedAt = performance.now();
  let drawn = false;
  let last: SeedProgress | undefined;
  const show = (p: SeedProgress | undefined, waitingMs: number) => {
    const waiting = waitingMs >= intervalMs ? `, waiting ${Math.round(waitingMs / 1000)} s for the server` : '';
    if (p === undefined) {
      if (waiting !== '') io.err(`seed: no answer yet${waiting}`);
      return;
    }
    const failed = p.failed > 0 ? `, ${p.failed} failed` : '';
    if (io.stderrIsTty) {
      const width = 30;
      const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
      const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
      io.writeErr(`\r[${bar}] ${p.done}/${p.total} ${p.phase} (${p.mode}${failed}${waiting})\u001b[K`);
      drawn = true;
      return;
    }
    const now = performance.now();
    if (now - lastLine >= intervalMs || (p.done === p.total && waiting === '')) {
      lastLine = now;
      io.err(`seed: ${p.done}/${p.total} (${p.phase}, ${p.mode}${failed}${waiting})`);
    }
  };
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - changedAt >= intervalMs && (io.stderrIsTty || now - lastLine >= intervalMs)) {
      show(last, now - changedAt);
    }
  }, intervalMs);
  timer.unref();
  return {
    update(p) {
      last = p;
      changedAt = performance.now();
      show(p, 0);
    },
    finish() {
      clearInterval(timer);
      if (drawn) io.writeErr('\n');
      drawn = false;
    },
  };
}
