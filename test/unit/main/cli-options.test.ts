import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dataDirFlag,
  desktopEnv,
  desktopServeOptions,
  parseFlags,
  serveOptions,
  ttlFlag,
} from '../../../src-main/cli/options';
import { urlFlag, wantsColour } from '../../../src-main/cli/check';
import { UsageError } from '../../../src-main/cli/usage';
import { defaultDataDir, resolveDataDir } from '../../../src-main/data-dir';
import { parseDuration } from '../../../src-main/duration';

describe('scimdesk start: the flags reach the desktop app', () => {
  const startFlags = (args: string[]) => parseFlags(args, ['host', 'port', 'data']).flags;

  it('listens where --host and --port say, and keeps a chosen port', () => {
    const env = desktopEnv(startFlags(['--host', '0.0.0.0', '--port', '9100', '--data', '/tmp/lab']), {});
    expect(desktopServeOptions(env)).toEqual({ host: '0.0.0.0', port: 9100, dataDir: '/tmp/lab', portChosen: true });
  });

  it('uses the defaults without flags, and may then move off a taken 8585', () => {
    const env = desktopEnv(startFlags([]), { SCIMDESK_DATA_DIR: '/tmp/d' });
    expect(desktopServeOptions(env)).toEqual({ host: '127.0.0.1', port: 8585, dataDir: '/tmp/d', portChosen: false });
  });

  it('does not pass ELECTRON_RUN_AS_NODE on, which would make the app run as plain Node', () => {
    const env = desktopEnv(startFlags([]), { ELECTRON_RUN_AS_NODE: '1', PATH: '/usr/bin' });
    expect(env).not.toHaveProperty('ELECTRON_RUN_AS_NODE');
    expect(env['PATH']).toBe('/usr/bin');
  });

  it('refuses a bad port in the environment as it would the flag, naming the variable', () => {
    expect(() => desktopServeOptions({ SCIMDESK_PORT: 'eighty' })).toThrow(
      /SCIMDESK_PORT 'eighty' is not a port number/,
    );
  });
});

describe('CLI flags', () => {
  it('refuses a flag given twice, in any spelling, rather than letting the last win', () => {
    for (const args of [
      ['--port', '0', '--port', '1'],
      ['--port=0', '--port', '1'],
    ]) {
      expect(() => parseFlags(args, ['port'])).toThrow('--port is given more than once');
    }
    expect(parseFlags(['--help', '--help'], ['port']).help).toBe(true);
  });

  it('reads serve flags with their defaults', () => {
    const { flags } = parseFlags([], ['host', 'port', 'data']);
    expect(serveOptions(flags, { SCIMDESK_DATA_DIR: '/tmp/d' })).toEqual({
      host: '127.0.0.1',
      port: 8585,
      dataDir: '/tmp/d',
    });
  });

  it('accepts port 0 and both flag spellings', () => {
    const { flags } = parseFlags(['--port=0', '--host', '::1'], ['host', 'port', 'data']);
    expect(serveOptions(flags, {})).toMatchObject({ host: '::1', port: 0 });
  });

  it('takes an IPv6 address written as in a URL, [::1], as the address', () => {
    const { flags } = parseFlags(['--host', '[::1]'], ['host', 'port', 'data']);
    expect(serveOptions(flags, {})).toMatchObject({ host: '::1' });
    expect(() => serveOptions(parseFlags(['--host', '[a b]'], ['host']).flags, {})).toThrow(/not a host name/);
  });

  it('resolves a relative SCIMDESK_DATA_DIR, as it does --data', () => {
    const { flags } = parseFlags([], ['host', 'port', 'data']);
    expect(serveOptions(flags, { SCIMDESK_DATA_DIR: 'lab-data' }).dataDir).toBe(join(process.cwd(), 'lab-data'));
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port'], /--port/],
    [['extra'], /Unexpected argument 'extra'/],
    [
      ['--port', '-1'],
      /^--port needs a value, and one starting with '-' is not one \(for such a value write --port=VALUE\)$/,
    ],
  ])('refuses %j with a one-line usage error', (args, message) => {
    expect(() => parseFlags(args, ['host', 'port', 'data'])).toThrow(message);
    try {
      parseFlags(args, ['host', 'port', 'data']);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it.each(['70000', '-1', 'abc', '80.5', ''])('refuses port %j', (port) => {
    const { flags } = parseFlags([`--port=${port}`], ['host', 'port', 'data']);
    expect(() => serveOptions(flags, {})).toThrow(UsageError);
  });

  it.each([
    [
      '127.0.0.1:8080',
      "--host '127.0.0.1:8080' holds a port: give the host alone (127.0.0.1) and the port as --port 8080",
    ],
    ['localhost:80', "--host 'localhost:80' holds a port: give the host alone (localhost) and the port as --port 80"],
    ['999.1.1.1', "--host '999.1.1.1' is not a valid IP address"],
    ['1:2:3', "--host '1:2:3' is not a valid IP address"],
  ])('refuses --host %s as a bad value (exit 2), not as a name it cannot resolve', (host, message) => {
    const { flags } = parseFlags(['--host', host], ['host', 'port', 'data']);
    expect(() => serveOptions(flags, {})).toThrow(message);
  });
  it('takes every address form a listener takes', () => {
    for (const host of ['0.0.0.0', '::', '::1', '[::1]', 'fe80::1', '::ffff:127.0.0.1', 'localhost', 'my-host.local']) {
      expect(serveOptions(parseFlags(['--host', host], ['host']).flags, {}).host).toBe(host.replace(/^\[|\]$/g, ''));
    }
    expect(() => desktopServeOptions({ SCIMDESK_HOST: '10.0.0.1:9000' })).toThrow(
      "SCIMDESK_HOST '10.0.0.1:9000' holds a port: give the host alone (10.0.0.1) and the port as SCIMDESK_PORT=9000",
    );
  });
  it('refuses a host with spaces or slashes', () => {
    const { flags } = parseFlags(['--host=a b/c'], ['host', 'port', 'data']);
    expect(() => serveOptions(flags, {})).toThrow(/--host/);
  });

  it('resolves --data to an absolute path and refuses an empty one', () => {
    expect(dataDirFlag('rel/dir', {})).toMatch(/^\/.*rel\/dir$/);
    expect(() => dataDirFlag('', {})).toThrow(/--data/);
  });

  it('reads a ~ the shell left alone (--data=~/lab, a quoted "~/lab") as the home folder', () => {
    const home = homedir();
    expect(dataDirFlag('~/lab', {})).toBe(join(home, 'lab'));
    expect(dataDirFlag('~', {})).toBe(home);
    expect(defaultDataDir({ SCIMDESK_DATA_DIR: '~/srv' }, 'linux')).toBe(join(home, 'srv'));
    // Only a leading ~ standing for the home folder: ~name is another account's, and a ~ inside
    // a name is a character.
    expect(dataDirFlag('~other/lab', {})).toBe(join(process.cwd(), '~other/lab'));
    expect(dataDirFlag('lab~/x', {})).toBe(join(process.cwd(), 'lab~/x'));
    expect(resolveDataDir('~/$&lab', '/home/a$&b')).toBe('/home/a$&b/$&lab');
  });

  it('reads --ttl durations and refuses bad or too long ones', () => {
    expect(ttlFlag(undefined)).toBe(12 * 3600);
    expect(ttlFlag('90s')).toBe(90);
    expect(ttlFlag('30m')).toBe(1800);
    expect(ttlFlag('7d')).toBe(7 * 86400);
    expect(ttlFlag('45')).toBe(45);
    expect(() => ttlFlag('12x')).toThrow(/not a duration/);
    expect(() => ttlFlag('0h')).toThrow(/'0h' is no time at all/);
    expect(() => ttlFlag('0')).toThrow(/'0' is no time at all/);
    expect(() => ttlFlag('31d')).toThrow(/maximum of 30d/);
    expect(() => ttlFlag('1000000000s')).toThrow(/maximum of 30d/);
    expect(() => ttlFlag('9'.repeat(40))).toThrow(/maximum of 30d/);
  });

  it('parses durations strictly', () => {
    expect(parseDuration(' 2h ')).toBe(7200);
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(parseDuration('h')).toBeUndefined();
  });
});

describe('default data folder', () => {
  it('prefers SCIMDESK_DATA_DIR', () => {
    expect(defaultDataDir({ SCIMDESK_DATA_DIR: '/srv/scim' }, 'linux')).toBe('/srv/scim');
  });
  it('uses ~/.config/scimdesk on Linux, honouring XDG_CONFIG_HOME', () => {
    expect(defaultDataDir({}, 'linux')).toMatch(/\.config\/scimdesk$/);
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/scimdesk');
  });
  it('ignores an empty or relative XDG_CONFIG_HOME, as the XDG spec says: the folder must not follow the working directory', () => {
    for (const XDG_CONFIG_HOME of ['', 'relative/x']) {
      expect(defaultDataDir({ XDG_CONFIG_HOME }, 'linux')).toBe(defaultDataDir({}, 'linux'));
    }
  });
  // A container's uid with no account entry has no home folder to fall back on: skipped there.
  const accountHome = (() => {
    try {
      return userInfo().homedir;
    } catch {
      return undefined;
    }
  })();
  if (accountHome === undefined) console.log('HOME fallback test skipped: this uid has no account entry');
  it.skipIf(accountHome === undefined)(
    "takes the account's home folder for an empty or relative HOME, not one under the working directory",
    () => {
      const own = join(accountHome!, '.config', 'scimdesk');
      for (const home of ['', 'relhome']) expect(defaultDataDir({}, 'linux', home)).toBe(own);
      expect(defaultDataDir({}, 'linux', '/home/given')).toBe('/home/given/.config/scimdesk');
    },
  );
  it('uses the platform app-data folder elsewhere', () => {
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/scimdesk$/);
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32')).toContain('scimdesk');
  });
});

describe('check and seed: --url and colour', () => {
  it('names every part of --url it does not send, the query and the fragment', () => {
    const notes: string[] = [];
    expect(urlFlag('http://h/scim/v2?x=1#f', (line) => notes.push(line))).toBe('http://h/scim/v2');
    expect(notes).toEqual([
      "note: --url's query (?x=1) and fragment (#f) are not sent: requests go to the base URL and a path",
    ]);
  });

  it('refuses a user name or password in --url without repeating them', () => {
    const refused = () => urlFlag('http://me:s3cret@h/scim/v2', () => undefined);
    expect(refused).toThrow(UsageError);
    expect(refused).toThrow(/^--url holds a user name or password before its host \(http:\/\/h\/scim\/v2\)/);
    // Nor do the other refusals of --url repeat them.
    for (const url of ['ftp://me:s3cret@h/x', 'https://me:s3cret@exa mple.com']) {
      expect(() => urlFlag(url, () => undefined)).toThrow(UsageError);
      expect(() => urlFlag(url, () => undefined)).not.toThrow(/s3cret/);
    }
  });

  it('turns colour off for NO_COLOR with a value, not for an empty one (no-color.org), and for a pipe', () => {
    expect(wantsColour(true, {})).toBe(true);
    expect(wantsColour(true, { NO_COLOR: '' })).toBe(true);
    expect(wantsColour(true, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour(false, {})).toBe(false);
  });
});
