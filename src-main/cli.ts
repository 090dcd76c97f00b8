/**
 * The headless entry: `scimdesk serve | start | admin-token | check | seed`. Plain Node only — this file and
 * everything it imports must never import `electron` (checked by test/integration/cli-build.test.ts).
 */
import { fileURLToPath } from 'node:url';
import { printAdminToken } from './cli/admin-token';
import { checkCommand, type CommandIo } from './cli/check';
import { probeDesktop, runDesktop } from './cli/desktop';
import { dataDirFlag, desktopEnv, parseFlags, serveOptions, ttlFlag } from './cli/options';
import { seedCommand } from './cli/seed';
import { serve, type CliIo } from './cli/serve';
import { ADMIN_TOKEN_HELP, COMMANDS, helpHint, MAIN_HELP, SERVE_HELP, START_HELP, UsageError } from './cli/usage';

const appRoot = fileURLToPath(new URL('../..', import.meta.url));
const rendererDir = fileURLToPath(new URL('../renderer', import.meta.url));
/** Built beside this entry by electron.vite.config.ts. */
const requestLogWorker = new URL('./request-log-worker.js', import.meta.url);

/**
 * A reader that went away (`scimdesk check | head`) is not a failure of the command: what is still to
 * be said to it is dropped and the command runs to its end (check still deletes what it created).
 * Node ignores SIGPIPE, so without this the next write throws EPIPE as an uncaught stack trace. A
 * terminal that was closed answers EIO instead: `serve` is then stopping on the SIGHUP, and the
 * line saying so must not kill it before it has flushed and released the folder.
 */
const GONE_READER = new Set(['EPIPE', 'EIO']);
const closedStreams = new Set<NodeJS.WriteStream>();
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!GONE_READER.has(error.code ?? '')) throw error;
    closedStreams.add(stream);
  });
}
function writeTo(stream: NodeJS.WriteStream, text: string): void {
  if (!closedStreams.has(stream)) stream.write(text);
}

const io: CliIo = {
  out: (line) => writeTo(process.stdout, `${line}\n`),
  err: (line) => writeTo(process.stderr, `${line}\n`),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h': {
      // `scimdesk help seed` is `scimdesk seed --help`; nothing else may follow.
      const [topic, ...extra] = rest;
      if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
      if (topic === undefined) return printed(MAIN_HELP);
      if (!(COMMANDS as readonly string[]).includes(topic)) {
        throw new UsageError(`no help for '${topic}' (commands: ${COMMANDS.join(', ')})`);
      }
      return main([topic, '--help']);
    }
    case '--version':
    case '-v':
    case 'version':
      if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
      io.out(`scimdesk ${await version()}`);
      return 0;
    case 'serve': {
      const { flags, help } = parseFlags(rest, ['host', 'port', 'data']);
      if (help) return printed(SERVE_HELP);
      return serve(
        { ...serveOptions(flags, process.env), version: await version(), requestLogWorker },
        rendererDir,
        io,
      );
    }
    case 'start': {
      const { flags, help } = parseFlags(rest, ['host', 'port', 'data']);
      if (help) return printed(START_HELP);
      const options = serveOptions(flags, process.env);
      const desktop = probeDesktop();
      if (desktop.ok) return runDesktop(desktop.binary, appRoot, desktopEnv(flags, process.env));
      io.err(`scimdesk: not starting the desktop app because ${desktop.reason}; serving the web console instead`);
      return serve({ ...options, version: await version(), requestLogWorker }, rendererDir, io);
    }
    case 'admin-token': {
      const { flags, help } = parseFlags(rest, ['data', 'ttl']);
      if (help) return printed(ADMIN_TOKEN_HELP);
      return printAdminToken(dataDirFlag(flags.data, process.env), ttlFlag(flags.ttl), io);
    }
    case 'check':
      return checkCommand(rest, commandIo());
    case 'seed':
      return seedCommand(rest, commandIo());
    default:
      throw new UsageError(`unknown command '${command}' (commands: ${COMMANDS.join(', ')})`);
  }
}

/** check and seed decide on colour and progress bars from the streams they write to. */
function commandIo(): CommandIo {
  return {
    ...io,
    writeErr: (text) => writeTo(process.stderr, text),
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    env: process.env,
    flush: () =>
      closedStreams.has(process.stdout)
        ? Promise.resolve()
        : new Promise((resolve) => process.stdout.write('', () => resolve())),
  };
}

function printed(text: string): number {
  io.out(text);
  return 0;
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const args = process.argv.slice(2);
main(args).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      io.err(`scimdesk: ${error.message} (${helpHint(args[0])})`);
      process.exit(2);
    }
    io.err(`scimdesk: ${describe(error)}`);
    process.exit(1);
  },
);

function describe(error: unknown): string {
  const err = error as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  if (err.code === 'EADDRINUSE') {
    return `cannot listen on ${err.address}:${err.port}: the address is in use (choose another --port, or --port 0 for any free one)`;
  }
  if (err.code === 'EACCES' && err.port !== undefined) return `cannot listen on port ${err.port}: permission denied`;
  if (err.code === 'EADDRNOTAVAIL') {
    return `cannot listen on ${err.address}: no network interface of this machine has that address (--host)`;
  }
  if ((err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') && err.syscall === 'getaddrinfo') {
    return `cannot listen on ${err.hostname ?? 'that host'}: the name could not be resolved to an address (--host)`;
  }
  return err.message ?? String(error);
}
