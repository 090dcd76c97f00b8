/**
 * The Electron shell: start the composition root, open one hardened window, wire IPC. Nothing else.
 * Security settings follow Electron's checklist (DESIGN.md §5): context isolation, sandbox, no Node
 * in the page, a strict CSP, no navigation away, no new windows, no permissions.
 */
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import { startScimdesk, type RunningScimdesk } from './app';
import { desktopServeOptions } from './cli/options';
import { defaultDataDir } from './data-dir';
import { CONSOLE_CSP } from './http/console-static';
import { isLoopback } from './http/listener';
import { registerAdminIpc, type AdminIpc } from './ipc/admin-ipc';
import { isAppDocument } from './ipc/app-document';
import { watchLifeline } from './lifeline';
import { NotWrittenOnCloseError } from './store/errors';

const rendererDir = join(import.meta.dirname, '../renderer');
const rendererIndex = join(rendererDir, 'index.html');
const isOwnPage = (url: string) => isAppDocument(url, rendererIndex);

// Chromium's profile (its Preferences, caches, local storage) apart from the SCIM data: by the
// package's name it was `~/.config/scimdesk`, the data folder itself, which then held both.
app.setPath('userData', join(app.getPath('appData'), 'scimdesk-desktop'));

// The data folder this app opens, as `scimdesk start --data` passes it (desktopEnv).
const dataDir = defaultDataDir(process.env);

// One app at a time: a second start (a shortcut clicked again) shared the Chromium profile with
// the first and then met the data folder's lock as a "could not start" box. It now brings the
// open window forward, and says which data folder it is on when another was asked for.
const firstInstance = app.requestSingleInstanceLock({ dataDir });
if (!firstInstance) {
  console.error(
    `scimdesk is already open: its window was asked to come to the front (this start asked for ${dataDir}).`,
  );
  app.exit(0);
}

let running: RunningScimdesk | undefined;
let adminIpc: AdminIpc | undefined;
/** The data folder could no longer be written: the app quits with exit code 1, as `serve` does. */
let stoppedByFailure = false;

async function startServer(): Promise<RunningScimdesk> {
  // `scimdesk start --host/--port/--data` pass their values in the environment (desktopEnv).
  const { portChosen, ...listen } = desktopServeOptions(process.env);
  if (!isLoopback(listen.host)) {
    console.warn(`warning: listening on ${listen.host} exposes the SCIM and admin APIs beyond this machine`);
  }
  const options = {
    ...listen,
    rendererDir,
    version: app.getVersion(),
    requestLogWorker: new URL('./request-log-worker.js', import.meta.url),
    // As `scimdesk serve` does: a data folder that can no longer be written stops the app, which
    // otherwise stayed up refusing every write with a message that it was stopping.
    onFatal: (error: Error) => {
      dialog.showErrorBox(
        'scimdesk stopped',
        `The data folder can no longer be written (${error.message}). scimdesk quits; start it again to recover.`,
      );
      stoppedByFailure = true;
      app.quit();
    },
  };
  try {
    return await startScimdesk(options);
  } catch (error) {
    // Another program may hold the usual port; any free one is better than no server. A port the
    // user chose is theirs: failing says so, where another port would surprise their IdP.
    if (portChosen || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startScimdesk({ ...options, port: 0 });
  }
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1200,
    height: 800,
    title: 'scimdesk',
    show: false,
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
      // A packaged app is no place for DevTools: one keystroke from running code in the admin page.
      devTools: !app.isPackaged,
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadFile(rendererIndex);
  return window;
}

function harden(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, grant) => grant(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONSOLE_CSP] } });
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isOwnPage(url)) event.preventDefault();
    });
    contents.on('will-frame-navigate', (event) => {
      if (!event.isMainFrame) event.preventDefault(); // the page has no frames of its own
    });
    // The page opens no window and has no links: a request for one is refused, not handed to the
    // system's browser (Electron's checklist, 14 and 15).
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

async function main(): Promise<void> {
  // Before the start, which may replay a long journal: a second launch meanwhile was ignored.
  app.on('second-instance', (_event, _argv, _cwd, asked: unknown) => {
    const [window] = BrowserWindow.getAllWindows();
    // None while the server starts (the window opens once it is up), or closed on macOS.
    if (!window) {
      if (running) createWindow();
      return;
    }
    if (window.isMinimized()) window.restore();
    window.focus();
    const other = (asked as { dataDir?: unknown } | null)?.dataDir;
    if (typeof other === 'string' && other !== dataDir) {
      void dialog.showMessageBox(window, {
        type: 'info',
        message: `scimdesk is open on ${dataDir}`,
        detail: `To open ${other}, quit this one first.`,
      });
    }
  });
  await app.whenReady();
  harden();
  running = await startServer();
  console.log(`listening on ${running.address.url}`);
  // The page may carry a hash route; the document itself must be the app's own file.
  const { store } = running;
  adminIpc = registerAdminIpc(ipcMain, running.handlers, isOwnPage, console, () => store.settled());
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// A console's Ctrl-C on Windows reaches this process as SIGINT, which would end it at once; quit
// as the window's close does, so the server shuts down (POSIX signals Electron handles itself).
if (process.platform === 'win32') process.on('SIGINT', () => app.quit());
// Run by `scimdesk start`, which may be killed outright: quit (closing the server) when it is gone.
watchLifeline(process.env, () => app.quit());

let quitting = false;
let closed = false;
let quitWhenStarted = false;
app.on('before-quit', (event) => {
  if (closed) return;
  if (quitting) {
    // A second quit (the window closed while the calls under way finish) waits for the first:
    // let through, Electron ended the app before the server was closed.
    event.preventDefault();
    return;
  }
  if (!running) {
    // Still starting (replaying the journal): the quit waits for the start, as `scimdesk serve`
    // holds a signal, and then closes the server; let through, it left the folder's lock behind.
    if (starting) {
      event.preventDefault();
      quitWhenStarted = true;
    }
    return;
  }
  event.preventDefault();
  quitting = true;
  // A close that lost something (log entries a full disk kept from being written) says so, and
  // the app exits 1, as `scimdesk serve` does.
  const server = running;
  // The console's calls under way finish first, as the HTTP requests in flight do in close() (a
  // call that never ends is not waited for past the same 10 s).
  const callsDone = Promise.race([adminIpc?.drain(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  void callsDone
    .then(() => server.close())
    .then(
      () => {
        closed = true;
        if (stoppedByFailure) app.exit(1);
        else app.quit();
      },
      (error: unknown) => {
        // What a service could not write was told as it closed (services.close).
        if (!(error instanceof NotWrittenOnCloseError))
          console.error(`scimdesk: shutdown failed: ${(error as Error).message}`);
        app.exit(1);
      },
    );
});

let starting = firstInstance;
if (firstInstance) {
  main()
    .then(() => {
      starting = false;
      if (quitWhenStarted) app.quit();
    })
    .catch((error: unknown) => {
      starting = false;
      dialog.showErrorBox('scimdesk could not start', (error as Error).message);
      app.exit(1);
    });
}
