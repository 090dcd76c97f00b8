/**
 * Vitest setup for every property test. Locally each run draws new cases, so the suite keeps
 * exploring. Under CI (`CI=true`) the draw is pinned: whether a commit lands depends on its code, not
 * on the luck of one draw, and a CI failure replays on any machine with the seed it prints. FUZZ_SEED
 * pins a local run the same way, to replay a failure.
 */
import fc from 'fast-check';

/** Any fixed value will do; changing it re-rolls CI's cases. */
const CI_SEED = 20261205;

const pinned = process.env['FUZZ_SEED'] ?? (process.env['CI'] ? String(CI_SEED) : undefined);
if (pinned !== undefined) {
  const seed = Number(pinned);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not "${pinned}".`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
}
