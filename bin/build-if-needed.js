#!/usr/bin/env node
// Builds out/ with electron-vite when it is missing or stale. Progress goes to stderr, so that the
// CLI's stdout stays exactly what DESIGN.md promises (the `listening on` line first).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'out', '.build-stamp');
const sources = ['src-main', 'src-shared', 'src-renderer', 'electron.vite.config.ts', 'package.json'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), info.mtimeMs);
}

function isStale() {
  if (!existsSync(stamp) || !existsSync(join(root, 'out', 'main', 'cli.js'))) return true;
  const built = statSync(stamp).mtimeMs;
  return sources.some((source) => newestMtime(join(root, source)) > built);
}

const lock = join(root, 'out', '.building');

/** Whether the build that wrote the lock is gone (killed by Ctrl-C, say): its pid no longer runs. */
function abandoned(holder) {
  const pid = Number(holder);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error.code === 'ESRCH';
  }
}

function readLock() {
  try {
    return readFileSync(lock, 'utf8').trim();
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Two commands started at once on a fresh clone (`npx scimdesk serve` and `npx scimdesk check`)
 * must not both write out/: the second waits for the first's build and then uses it. The lock file
 * holds the builder's pid, so a build that was killed does not hold up the next one.
 */
async function withBuildLock(work) {
  mkdirSync(join(root, 'out'), { recursive: true });
  for (let said = false; ;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const holder = readLock();
    if (holder === undefined) continue; // released meanwhile
    // A lock file caught between its creation and its pid being written reads empty: wait a moment.
    if (holder !== '' && abandoned(holder)) {
      // Only the lock this command judged abandoned: another waiter may have taken it over since.
      if (readLock() === holder) rmSync(lock, { force: true });
      continue;
    }
    if (!said) process.stderr.write('scimdesk: waiting for another build of the app to finish…\n');
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    return work();
  } finally {
    rmSync(lock, { force: true });
  }
}

export async function ensureBuilt({ force }) {
  if (!force && !isStale()) return;
  const status = await withBuildLock(() => {
    // Another command may have built it while this one waited.
    if (!force && !isStale()) return 0;
    return build();
  });
  // Exits only once the lock is released: a failed build must not hold up the next attempt.
  if (status !== 0) process.exit(status);
}

/** Builds out/ and stamps it; returns the exit status (0 when built). */
function build() {
  let cli;
  try {
    const require = createRequire(import.meta.url);
    cli = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
  } catch {
    process.stderr.write('scimdesk: the app is not built and electron-vite is missing; run `npm ci` first\n');
    return 1;
  }
  process.stderr.write('scimdesk: building the app (about 15 s, once)…\n');
  const result = spawnSync(process.execPath, [cli, 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    process.stderr.write('scimdesk: the build failed (see above)\n');
    return result.status ?? 1;
  }
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensureBuilt({ force: process.argv.includes('--force') });
}
