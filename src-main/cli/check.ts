import { formatCleanup, formatHeader, formatStep, formatSummary, runCheck, type Style } from '../check/index';
import { PROFILE_NAMES, type ProfileName } from '../check/types';
import { listenForInterrupt } from './interrupt';
import { parseFlags } from './options';
import { CHECK_HELP, UsageError } from './usage';

/** `scimdesk check`: flags → the checker engine → a streamed human report or one JSON document. */

export interface CommandIo {
  /** One line to stdout / stderr. */
  out(line: string): void;
  err(line: string): void;
  /** Raw stderr, for a progress bar redrawn in place. */
  writeErr(text: string): void;
  readonly stdoutIsTty: boolean;
  readonly stderrIsTty: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves once stdout has taken everything written: the CLI exits right after (pipes may be async). */
  flush(): Promise<void>;
}

/**
 * The SCIM base URL, without a query or fragment: every request goes to BASE + path, so a query on
 * the base would be dropped from each of them. It is said once (`note`) rather than refused: Entra
 * ID's Tenant URL may carry its own flags (`?aadOptscim062020`), which Entra reads, not the server.
 */
export function urlFlag(value: string | boolean | undefined, note: (line: string) => void): string {
  if (typeof value !== 'string' || value === '') throw new UsageError('--url is required (the SCIM base URL)');
  // What an error repeats of it: never a password written before the host.
  const shown = value.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url '${shown}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url '${shown}' must be an http:// or https:// URL`);
  }
  // Never sent (the token is), and echoed in every summary line: refused, and not repeated here.
  if (url.username !== '' || url.password !== '') {
    url.username = '';
    url.password = '';
    throw new UsageError(
      `--url holds a user name or password before its host (${url.href}): leave them out; the token goes in --token`,
    );
  }
  if (url.search === '' && url.hash === '') return value;
  const dropped = [url.search && `query (${url.search})`, url.hash && `fragment (${url.hash})`].filter(Boolean);
  note(
    `note: --url's ${dropped.join(' and ')} ${dropped.length > 1 ? 'are' : 'is'} not sent: requests go to the base URL and a path`,
  );
  url.search = '';
  url.hash = '';
  return url.href;
}

/** NO_COLOR (no-color.org) set and not empty turns colour off ("" does not); so does a pipe. */
export function wantsColour(stdoutIsTty: boolean, env: NodeJS.ProcessEnv): boolean {
  return stdoutIsTty && !env.NO_COLOR;
}

/**
 * The token as it will go into `Authorization: Bearer …`. Whitespace around it is dropped (a token
 * read from a file with Windows line ends keeps its `\r`); anything an HTTP header cannot carry is
 * a usage error, or every request would fail with the same error, step after step. The message
 * says where, not what the token is: it is a secret.
 */
export function tokenFlag(value: string | boolean | undefined): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError('--token is required (a bearer token)');
  const token = value.trim();
  const chars = [...token];
  const at = chars.findIndex((char) => unfitForHeader(char.codePointAt(0)!));
  if (at >= 0) {
    const char = chars[at]!;
    const point = char.codePointAt(0)!;
    const what = /\s/u.test(char) ? 'a space' : point > 0xff ? 'a non-Latin-1 character' : 'a control character';
    const code = `U+${point.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new UsageError(
      `--token has ${what} (${code}) at character ${at + 1}; a bearer token is one word of printable text`,
    );
  }
  return token;
}

/** Controls, whitespace and what Latin-1 cannot write: fetch refuses them in a header, or splits the word. */
function unfitForHeader(point: number): boolean {
  return point <= 0x20 || point === 0x7f || (point >= 0x80 && point <= 0xa0) || point > 0xff;
}

function profileFlag(value: string | boolean | undefined): ProfileName[] {
  if (value === undefined || value === 'all') return [...PROFILE_NAMES];
  if (typeof value === 'string' && (PROFILE_NAMES as readonly string[]).includes(value)) return [value as ProfileName];
  throw new UsageError(`--profile '${String(value)}' is not one of entra, okta, rfc, all`);
}

const VALUE_FLAGS = ['url', 'token', 'profile'];

export async function checkCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { flags, help } = parseFlags(args, VALUE_FLAGS, ['json', 'keep']);
  if (help) {
    io.out(CHECK_HELP);
    return 0;
  }
  const baseUrl = urlFlag(flags.url, (line) => io.err(`scimdesk check: ${line}`));
  const token = tokenFlag(flags.token);
  const profiles = profileFlag(flags.profile);
  const json = flags.json === true;
  const style: Style = { color: wantsColour(io.stdoutIsTty, io.env) };
  // Steps not run after the run stopped share one reason: it is said once, with their count.
  let notRun = 0;
  let lastNotRun: string | undefined;
  const sayNotRun = () => {
    if (notRun > 0) io.out(`     … and ${notRun} more step(s) not run for the same reason`);
    notRun = 0;
  };
  const keep = flags.keep === true;
  // Ctrl-C stops after the step under way and still deletes what the run created.
  const interrupt = listenForInterrupt(
    (line) => io.err(`scimdesk check: ${line}`),
    `stopping after the current step${keep ? '' : ', then deleting what the check created'}`,
  );
  const report = await runCheck({
    baseUrl,
    token,
    profiles,
    keep,
    signal: interrupt.signal,
    onEvent: json
      ? undefined
      : (event) => {
          if (event.type === 'start') io.out(formatHeader(event.target, event.profiles, style));
          else if (event.type === 'step') {
            const reason = event.result.skippedReason;
            if (reason?.startsWith('not run:') && reason === lastNotRun) notRun++;
            else {
              sayNotRun();
              for (const line of formatStep(event.result, style)) io.out(line);
            }
            lastNotRun = reason?.startsWith('not run:') ? reason : undefined;
          } else if (event.type === 'cleanup') {
            sayNotRun();
            for (const line of formatCleanup(event.result, style)) io.out(line);
          } else io.out(formatSummary(event.report.summary, style, event.report.interrupted === true));
        },
  });
  interrupt.dispose();
  if (json) io.out(JSON.stringify(report, null, 2));
  await io.flush();
  if (interrupt.signal.aborted) return interrupt.exitCode();
  return report.summary.ok ? 0 : 1;
}
