/**
 * How the desktop app learns that the `scimdesk start` that ran it is gone, however it went.
 *
 * Signals cannot say it: the app runs in a process group of its own (so a terminal's Ctrl-C
 * reaches it once, through the CLI), and a CLI killed outright (SIGKILL, an out-of-memory kill)
 * forwards nothing. The app stayed up holding the data folder's lock, with no terminal to stop it.
 * So the CLI hands the app one end of a pipe it never writes to: the system closes the CLI's end
 * whatever ends it, and the app reads end-of-file.
 */
import { Socket } from 'node:net';

/** The variable that names the app's end of the pipe (a file descriptor number). */
export const LIFELINE_FD_VARIABLE = 'SCIMDESK_LIFELINE_FD';

/** The descriptor the CLI passes the pipe as: the first after stdin, stdout and stderr. */
export const LIFELINE_FD = 3;

/**
 * Calls `onGone` once when the process that passed the pipe is gone. Does nothing (false) when no
 * pipe was passed: an app started by `npm start` or from its installed shortcut has none.
 */
export function watchLifeline(env: NodeJS.ProcessEnv, onGone: () => void): boolean {
  const named = env[LIFELINE_FD_VARIABLE];
  const fd = Number(named);
  if (named === undefined || !Number.isInteger(fd) || fd < 3) return false;
  // Not inherited by what this process starts (the request log's worker reads no descriptor, but
  // a child process given this environment would watch a descriptor that is not its pipe).
  delete env[LIFELINE_FD_VARIABLE];
  let socket: Socket;
  try {
    socket = new Socket({ fd, readable: true, writable: false });
  } catch {
    return false; // not an open descriptor: nothing to watch
  }
  let told = false;
  const gone = () => {
    if (told) return;
    told = true;
    socket.destroy();
    onGone();
  };
  socket.on('data', () => undefined); // the CLI writes nothing; reading lets the end be seen
  socket.once('end', gone);
  socket.once('close', gone);
  socket.once('error', gone);
  // The pipe is a watch, not work: it must not keep the app running by itself.
  socket.unref();
  return true;
}
