#!/usr/bin/env node
// Builds out/ with electron-vite when it is missing or stale. Progress goes to stderr, so that the
// CLI's stdout stays exactly what DESIGN.md promises (the `listening on` line first).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
/** A build takes ~15 s; a lock this old was left by a build that was killed. */
const ABANDONED_LOCK_MS = 5 * 60_000;

/**
 * Two commands started at once on a fresh clone (`npx scimdesk serve` and `npx scimdesk check`)
 * must not both write out/: the second waits for the first's build and then uses it.
 */
async function withBuildLock(build) {
  mkdirSync(join(root, 'out'), { recursive: true });
  for (let said = false; ;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (Date.now() - statSync(lock).mtimeMs > ABANDONED_LOCK_MS) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!said) process.stderr.write('scimdesk: waiting for another build of the app to finish…\n');
      said = true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    build();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function ensureBuilt({ force }) {
  if (!force && !isStale()) return;
  await withBuildLock(() => {
    // Another command may have built it while this one waited.
    if (!force && !isStale()) return;
    build();
  });
}

function build() {
  let cli;
  try {
    const require = createRequire(import.meta.url);
    cli = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
  } catch {
    process.stderr.write('scimdesk: the app is not built and electron-vite is missing; run `npm ci` first\n');
    process.exit(1);
  }
  process.stderr.write('scimdesk: building the app (about 15 s, once)…\n');
  const result = spawnSync(process.execPath, [cli, 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    process.stderr.write('scimdesk: the build failed (see above)\n');
    process.exit(result.status ?? 1);
  }
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensureBuilt({ force: process.argv.includes('--force') });
}
