import { isIPv4, isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';
import { defaultDataDir, resolveDataDir } from '../data-dir';
import { parseDuration } from '../duration';
import { UsageError } from './usage';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8585;
const MAX_TTL_SECONDS = 30 * 86400;

type Flags = Record<string, string | boolean | undefined>;

/**
 * Strict flag parsing: an unknown flag, a missing value, a value given to an on/off switch or a stray
 * argument is a UsageError. `switches` are on/off flags (`--json`), true when present.
 */
export function parseFlags(
  args: readonly string[],
  valueFlags: readonly string[],
  switches: readonly string[] = [],
): { flags: Flags; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const name of valueFlags) options[name] = { type: 'string' };
  for (const name of switches) options[name] = { type: 'boolean' };
  const parse = () => parseArgs({ args: [...args], options, strict: true, allowPositionals: false, tokens: true });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError(cleanParseMessage((error as Error).message));
  }
  // The last of two silently won: `serve --port 0 --port 1` listened on port 1.
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || token.name === 'help') continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  return { flags: parsed.values, help: parsed.values.help === true };
}

function cleanParseMessage(message: string): string {
  // `--users -1`: node reads "-1" as another flag and calls the option "ambiguous".
  const dashed = /^Option '(--[\w-]+)' argument is ambiguous/.exec(message)?.[1];
  if (dashed)
    return `${dashed} needs a value, and one starting with '-' is not one (for such a value write ${dashed}=VALUE)`;
  // node's messages are long and sometimes multi-line; the CLI promises one line.
  return message
    .split('\n')[0]!
    .replace(/\. To specify a positional argument.*$/, '')
    .trim();
}

export function serveOptions(flags: Flags, env: NodeJS.ProcessEnv): ServeOptions {
  return { host: hostFlag(flags.host), port: portFlag(flags.port), dataDir: dataDirFlag(flags.data, env) };
}

/**
 * `scimdesk start` runs the desktop app as a child process; its flags travel in the environment.
 * Only the flags given are passed, so the app can tell a chosen port (kept, or the start fails)
 * from the default one (any free port when 8585 is taken).
 */
export function desktopEnv(flags: Flags, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const options = serveOptions(flags, env);
  // Set in terminals inside VS Code (itself Electron): it made Electron run as plain Node, and
  // the app died on its first import of `electron`.
  const { ELECTRON_RUN_AS_NODE: _asNode, ...rest } = env;
  return {
    ...rest,
    SCIMDESK_DATA_DIR: options.dataDir,
    ...(flags.host === undefined ? {} : { SCIMDESK_HOST: options.host }),
    ...(flags.port === undefined ? {} : { SCIMDESK_PORT: String(options.port) }),
  };
}

/** What the desktop app listens on, from `desktopEnv` (or a user's own environment, checked alike). */
export function desktopServeOptions(env: NodeJS.ProcessEnv): ServeOptions & { portChosen: boolean } {
  // Named as the variables they came in: the desktop app also reads them from a user's environment.
  return {
    host: hostFlag(env.SCIMDESK_HOST, 'SCIMDESK_HOST'),
    port: portFlag(env.SCIMDESK_PORT, 'SCIMDESK_PORT'),
    dataDir: dataDirFlag(undefined, env),
    portChosen: env.SCIMDESK_PORT !== undefined,
  };
}

export function dataDirFlag(value: string | boolean | undefined, env: NodeJS.ProcessEnv): string {
  if (value === undefined) return defaultDataDir(env);
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError('--data needs a folder path');
  return resolveDataDir(value);
}

export function ttlFlag(value: string | boolean | undefined): number {
  if (value === undefined) return 12 * 3600;
  const seconds = typeof value === 'string' ? parseDuration(value) : undefined;
  if (typeof value === 'string' && /^\s*0+[smhd]?\s*$/.test(value)) {
    throw new UsageError(`--ttl '${value}' is no time at all: give a duration like 90s, 30m, 12h or 7d`);
  }
  if (seconds === undefined)
    throw new UsageError(`--ttl '${String(value)}' is not a duration like 90s, 30m, 12h or 7d`);
  if (seconds > MAX_TTL_SECONDS) throw new UsageError(`--ttl '${value}' is longer than the maximum of 30d`);
  return seconds;
}

function hostFlag(value: string | boolean | undefined, label = '--host'): string {
  if (value === undefined) return DEFAULT_HOST;
  // `[::1]` as a URL writes it (and as `listening on` prints it) is the address `::1`.
  const host = typeof value === 'string' ? value.replace(/^\[([0-9a-fA-F:.]+)\]$/, '$1') : value;
  if (typeof host !== 'string' || !/^[\w.:-]+$/.test(host)) {
    throw new UsageError(`${label} '${String(value)}' is not a host name or IP address`);
  }
  // Refused here, with the reason, rather than as a name that "could not be resolved" (exit 1):
  // `127.0.0.1:8080` is a common slip, and a colon is only ever part of an IPv6 address.
  const withPort = /^([^:]+):(\d+)$/.exec(host);
  if (withPort) {
    const port = label === '--host' ? `--port ${withPort[2]}` : `SCIMDESK_PORT=${withPort[2]}`;
    throw new UsageError(
      `${label} '${host}' holds a port: give the host alone (${withPort[1]}) and the port as ${port}`,
    );
  }
  if ((host.includes(':') && !isIPv6(host)) || (/^[\d.]+$/.test(host) && !isIPv4(host))) {
    throw new UsageError(`${label} '${String(value)}' is not a valid IP address`);
  }
  return host;
}

function portFlag(value: string | boolean | undefined, label = '--port'): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`${label} '${String(value)}' is not a port number (0-65535)`);
  return port;
}
