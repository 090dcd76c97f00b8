import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LIFELINE_FD, LIFELINE_FD_VARIABLE } from '../lifeline';

export type DesktopProbe = { ok: true; binary: string } | { ok: false; reason: string };

const DEFAULT_EXECUTABLE: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'electron',
  win32: 'electron.exe',
  darwin: 'Electron.app/Contents/MacOS/Electron',
};

/**
 * Finds the Electron binary on disk without loading the `electron` package: Electron 45 downloads
 * its binary on first `require('electron')`, which must never happen as a side effect of a probe.
 */
export function probeDesktop(env: NodeJS.ProcessEnv = process.env, platform = process.platform): DesktopProbe {
  let packageDir: string;
  try {
    packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { ok: false, reason: 'the electron package is not installed (run npm ci)' };
  }
  const pathFile = join(packageDir, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : DEFAULT_EXECUTABLE[platform];
  const distDir = env.ELECTRON_OVERRIDE_DIST_PATH ?? join(packageDir, 'dist');
  const binary = executable ? join(distDir, executable) : undefined;
  if (!binary || !existsSync(binary)) {
    // Electron 45 has no install script: `npm ci` never fetches the binary. Its own installer does, online.
    return {
      ok: false,
      reason: `the Electron binary is not installed (no ${binary ?? distDir}; run 'npx install-electron' to download it)`,
    };
  }
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { ok: false, reason: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  }
  return { ok: true, binary };
}

/**
 * Runs the desktop app and resolves with its exit code. On POSIX systems Electron runs in a process
 * group of its own and gets each signal once, from here: in ours, a terminal's Ctrl-C reached it twice (from the
 * terminal and forwarded), and Electron takes a second SIGINT as "quit now", cutting the server's
 * shutdown short (requests in flight, the request log's last entries, the lock).
 */
export function runDesktop(binary: string, appRoot: string, env: NodeJS.ProcessEnv): Promise<number> {
  const posix = process.platform !== 'win32';
  return new Promise((resolve, reject) => {
    // On POSIX the app also gets a pipe (lifeline.ts) that tells it this process is gone, however it
    // went: in a group of its own, it would outlive a SIGKILL here, holding the data folder's lock.
    const child = spawn(binary, [appRoot], {
      stdio: posix ? ['ignore', 'inherit', 'inherit', 'pipe'] : ['ignore', 'inherit', 'inherit'],
      env: posix ? { ...env, [LIFELINE_FD_VARIABLE]: String(LIFELINE_FD) } : env,
      detached: posix,
    });
    // On Windows a console's Ctrl-C reaches Electron itself, and `kill` of any signal ends a
    // process at once: nothing is forwarded there, or Electron's shutdown would be cut short.
    if (posix) {
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on('SIGTERM', forward);
      process.on('SIGINT', forward);
      // A closed terminal hangs up twice (the shell forwards one, the kernel sends another as the
      // shell exits); Electron, like the second Ctrl-C above, would take the second as "quit now".
      let hungUp = false;
      process.on('SIGHUP', () => {
        if (!hungUp) forward('SIGHUP');
        hungUp = true;
      });
    } else {
      // Stay to hand on Electron's exit code: without a listener, Ctrl-C ends this process at once.
      // A second one ends it (and Electron, if the first did not reach it).
      let interrupts = 0;
      process.on('SIGINT', () => {
        if (++interrupts < 2) return;
        child.kill();
        resolve(130);
      });
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
