/**
 * `scimdesk start` runs Electron and hands it each signal once. Run against a stand-in for the
 * Electron binary (the real one cannot be fetched here): a script that notes each signal it gets
 * and quits a moment after the first, as Electron's graceful shutdown does.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning } from './harness';

const made: string[] = [];
/** Processes a failed test may leave running: the CLI and the stand-in app. */
const started: number[] = [];
afterEach(async () => {
  for (const pid of started.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

const STAND_IN = `#!/usr/bin/env node
const { appendFileSync, readFileSync } = require('node:fs');
const log = process.env.SIGNAL_LOG;
// /proc/self/stat: pid (comm) state ppid pgrp ...; comm may hold spaces, so read after the last ')'.
const stat = readFileSync('/proc/self/stat', 'utf8');
const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
appendFileSync(log, 'started ' + ppid + ' ' + pgrp + '\\n');
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    appendFileSync(log, signal + '\\n');
    setTimeout(() => process.exit(0), 300);
  });
}
setInterval(() => undefined, 1000);
`;

/** A stand-in that watches the CLI's pipe as the real app does (src-main/lifeline.ts, run through tsx). */
const LIFELINE_STAND_IN = `import { appendFileSync } from 'node:fs';
import { watchLifeline } from ${JSON.stringify(pathToFileURL(resolve('src-main/lifeline.ts')).href)};
const log = process.env.SIGNAL_LOG;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => appendFileSync(log, signal + '\\n'));
const watching = watchLifeline(process.env, () => {
  appendFileSync(log, 'cli gone\\n');
  setTimeout(() => process.exit(0), 100);
});
appendFileSync(log, 'started ' + process.pid + ' watching=' + watching + '\\n');
setInterval(() => undefined, 1000);
`;

/** The stand-in's `electron`: a shell script, since a shebang line with tsx's path may be too long. */
const LIFELINE_LAUNCHER = `#!/bin/sh
exec "${process.execPath}" --import "${pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href}" "$(dirname "$0")/app.mjs" "$@"
`;

/**
 * `scimdesk start` in a process group of its own (as a terminal gives a command: Ctrl-C goes to the
 * whole group), with a stand-in for the Electron binary that logs to signals.log; resolves once the
 * stand-in says it started, with the CLI, its exit and the log's lines.
 */
async function startWithStandIn(files: { electron: string } & Record<string, string>) {
  const dist = await mkdtemp(join(tmpdir(), 'scimdesk-fake-electron-'));
  made.push(dist);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dist, name), text);
  await chmod(join(dist, 'electron'), 0o755);
  const log = join(dist, 'signals.log');
  await writeFile(log, '');
  const cli = spawn(process.execPath, ['bin/scimdesk.js', 'start', '--data', join(dist, 'data')], {
    env: { ...process.env, DISPLAY: ':99', ELECTRON_OVERRIDE_DIST_PATH: dist, SIGNAL_LOG: log },
    detached: true,
    stdio: 'ignore',
  });
  started.push(cli.pid!);
  const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
  const lines = async () => (await readFile(log, 'utf8')).trim().split('\n');
  await expect.poll(() => readFile(log, 'utf8'), { timeout: 10_000 }).toContain('started');
  return { cli, exited, lines };
}

describe.skipIf(process.platform !== 'linux')('scimdesk start and signals', () => {
  it("hands a terminal's Ctrl-C to the desktop app once, and exits with it", { timeout: 20_000 }, async () => {
    const { cli, exited, lines } = await startWithStandIn({ electron: STAND_IN });
    // Started by the CLI, in a group of its own: the terminal's signal reaches it only through the CLI.
    const [, parent, group] = (await lines())[0]!.split(' ');
    expect(Number(parent)).toBe(cli.pid);
    expect(Number(group)).not.toBe(cli.pid);
    process.kill(-cli.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect((await lines()).slice(1)).toEqual(['SIGINT']);
  });

  it("hands a closing terminal's two hang-ups to the desktop app as one", { timeout: 20_000 }, async () => {
    const { cli, exited, lines } = await startWithStandIn({ electron: STAND_IN });
    process.kill(cli.pid!, 'SIGHUP');
    // Apart, as the shell's and the kernel's are: two sent at once arrive as one pending signal.
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(cli.pid!, 'SIGHUP');
    expect(await exited).toBe(0);
    expect((await lines()).slice(1)).toEqual(['SIGHUP']);
  });

  it('quits the desktop app when scimdesk start is killed outright', { timeout: 20_000 }, async () => {
    const { cli, exited, lines } = await startWithStandIn({
      'app.mjs': LIFELINE_STAND_IN,
      electron: LIFELINE_LAUNCHER,
    });
    const [, app, watching] = (await lines())[0]!.split(' ');
    started.push(Number(app));
    expect(watching).toBe('watching=true');
    // SIGKILL: the CLI forwards nothing, and the app, in a group of its own, got no signal either.
    cli.kill('SIGKILL');
    await exited;
    await expect.poll(() => isRunning(Number(app)), { timeout: 5_000 }).toBe(false);
    expect((await lines()).slice(1)).toEqual(['cli gone']);
  });
});
