import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { chown, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLI, isRunning, ROOT, runCli, runCliToEnd, tempDataDir, type CliRun } from './harness';

let data: { dir: string; remove: () => Promise<void> };
beforeEach(async () => {
  data = await tempDataDir();
});
afterEach(() => data.remove());

async function exchange(consoleUrl: string): Promise<Response> {
  const url = new URL(consoleUrl);
  return fetch(`${url.origin}/api/v1/admin/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: url.hash.replace('#code=', '') }),
  });
}

/**
 * A login whose body is still arriving when `interrupt` runs (200 ms in; the rest comes 300 ms
 * later): a stop must answer it. Resolves with its status.
 */
async function loginArrivingDuring(run: CliRun, interrupt: () => void): Promise<number> {
  const url = new URL((await run.waitForLine(/^listening on /)).slice('listening on '.length));
  return new Promise<number>((resolve, reject) => {
    const req = request(
      { hostname: url.hostname, port: url.port, path: '/api/v1/admin/session', method: 'POST' },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.setHeader('Content-Type', 'application/json');
    req.setHeader('Content-Length', '25');
    req.write('{"code": "not-a-');
    setTimeout(() => {
      interrupt();
      setTimeout(() => req.end('code!!!"}'), 300);
    }, 200);
  });
}

describe('scimdesk serve', () => {
  it('prints the listening line with the real port, then a working console URL', async () => {
    const run = runCli(['serve', '--port', '0', '--data', data.dir]);
    try {
      await run.waitForLine(/^console: /);
      expect(run.lines[0]).toMatch(/^listening on http:\/\/127\.0\.0\.1:(\d+)$/);
      const port = Number(/:(\d+)$/.exec(run.lines[0]!)![1]);
      expect(port).toBeGreaterThan(0);
      expect(run.lines[1]).toMatch(new RegExp(`^console: http://127\\.0\\.0\\.1:${port}/#code=[\\w-]+$`));
      const response = await exchange(run.lines[1]!.slice('console: '.length));
      expect(response.status).toBe(200);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    'exits 0 on %s after finishing an in-flight request',
    async (signal) => {
      const run = runCli(['serve', '--port', '0', '--data', data.dir]);
      const answer = loginArrivingDuring(run, () => run.child.kill(signal));
      expect(await answer).toBe(401);
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(run.stderr.join('\n')).toMatch(new RegExp(`received ${signal}`));
    },
  );

  it('takes a SIGTERM sent to it and its process group at once, as GNU timeout does, as one stop', async () => {
    const run = runCli(['serve', '--port', '0', '--data', data.dir]);
    const answer = loginArrivingDuring(run, () => {
      run.child.kill('SIGTERM');
      // A few ms apart: sent in one go, the kernel keeps one of them pending and drops the other.
      setTimeout(() => run.child.kill('SIGTERM'), 20);
    });
    expect(await answer).toBe(401);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stderr.join('\n')).not.toMatch(/again/);
  });

  it('lets a second SIGHUP, as a closing terminal sends, finish the stop the first began', async () => {
    const run = runCli(['serve', '--port', '0', '--data', data.dir]);
    const answer = loginArrivingDuring(run, () => {
      run.child.kill('SIGHUP');
      setTimeout(() => run.child.kill('SIGHUP'), 100);
    });
    expect(await answer).toBe(401);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stderr.join('\n')).not.toMatch(/again/);
  });

  it('names, while a hang-up stop waits on a request, what quits at once: not the hang-up it ignores again', async () => {
    const run = runCli(['serve', '--port', '0', '--data', data.dir]);
    const url = new URL((await run.waitForLine(/^listening on /)).slice('listening on '.length));
    // An upload that stalls: the stop waits for it, and says so every 5 s.
    const req = request({ hostname: url.hostname, port: url.port, path: '/api/v1/admin/session', method: 'POST' });
    req.on('error', () => undefined);
    req.setHeader('Content-Type', 'application/json');
    req.setHeader('Content-Length', '100');
    req.write('{"code": "');
    await new Promise((resolve) => setTimeout(resolve, 200));
    run.child.kill('SIGHUP');
    await vi.waitFor(() => expect(run.stderr.join('\n')).toMatch(/still finishing 1 request in flight \(.*\)/), {
      timeout: 15_000,
    });
    expect(run.stderr.join('\n')).toMatch(/in flight \(Ctrl-C or SIGTERM to exit at once\)/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 1, signal: null });
    req.destroy();
  }, 30_000);

  // `script` gives the server a terminal of its own; killing `script` closes that terminal as
  // closing its window would: the server gets SIGHUP, and its stderr answers EIO from then on.
  const terminal = ['/usr/bin/script', '/bin/script'].find((path) => existsSync(path));
  if (!terminal) console.log('terminal hang-up test skipped: no `script` command (util-linux) to open a terminal');
  it.skipIf(!terminal)('stops cleanly, releasing the data folder, when its terminal is closed', async () => {
    const command = `exec '${process.execPath}' '${CLI}' serve --port 0 --data '${data.dir}'`;
    const term = spawn(terminal!, ['-qfec', command, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'ignore'] });
    let shown = '';
    term.stdout.setEncoding('utf8').on('data', (chunk: string) => (shown += chunk));
    await expect.poll(() => shown, { timeout: 15_000 }).toMatch(/listening on /);
    const lock = join(data.dir, 'scimdesk.lock');
    const { pid } = JSON.parse(await readFile(lock, 'utf8')) as { pid: number };
    term.kill('SIGKILL');
    await expect.poll(() => isRunning(pid), { timeout: 15_000 }).toBe(false);
    // The lock goes last in a clean stop; a server killed by its own write error left it behind.
    expect(existsSync(lock)).toBe(false);
  });

  it('warns when asked to listen beyond loopback, and gives addresses that reach it, not 0.0.0.0', async () => {
    const run = runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--data', data.dir]);
    try {
      await run.waitForLine(/^listening on http:\/\/0\.0\.0\.0:/);
      expect(run.stderr.join('\n')).toMatch(/warning: listening on 0\.0\.0\.0/);
      const consoleUrl = (await run.waitForLine(/^console: /)).slice('console: '.length);
      // DESIGN.md §3: the console line names the host it listens on; stderr says where it is reached.
      expect(new URL(consoleUrl).hostname).toBe('0.0.0.0');
      const port = new URL(consoleUrl).port;
      await vi.waitFor(() =>
        expect(run.stderr.join('\n')).toMatch(
          new RegExp(`reachable at http://127\\.0\\.0\\.1:${port} on this machine`),
        ),
      );
      const origin = `http://127.0.0.1:${port}`;
      // The same one-time code, on the address this machine reaches.
      const here = /\(console: (\S+)\)/.exec(run.stderr.join('\n'))![1]!;
      expect(here).toBe(`${origin}/${new URL(consoleUrl).hash}`);
      const session = (await (await exchange(here)).json()) as { token: string };
      const admin = (path: string, body?: unknown) =>
        fetch(`${origin}/api/v1/admin${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { Authorization: `Bearer ${session.token}`, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        }).then((response) => response.json() as Promise<Record<string, unknown>>);
      const tenant = await admin('/tenants', { name: 'lab' });
      const info = await admin(`/scim-tokens/endpoint-info?tenant_id=${String(tenant['id'])}`);
      const base = new URL(String(info['scim_base_url']));
      expect(base.hostname).not.toBe('0.0.0.0');
      expect(base.port).toBe(port);
      // It is an address this server answers on.
      expect((await fetch(`${base.href}/ServiceProviderConfig`)).status).toBe(200);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('warns of a port browsers and fetch refuse, and check names the cause', async () => {
    const run = runCli(['serve', '--port', '10080', '--data', data.dir]);
    try {
      await run.waitForLine(/^listening on http:\/\/127\.0\.0\.1:10080$/);
      expect(run.stderr.join('\n')).toMatch(/warning: browsers and fetch refuse port 10080/);
      const check = await runCliToEnd(['check', '--url', 'http://127.0.0.1:10080/scim/v2', '--token', 'x']);
      expect(check.code).toBe(1);
      expect([...check.stdout, ...check.stderr].join('\n')).toMatch(/fetch refuses this port/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('says in one line that a data folder which is a file cannot be used, for serve and admin-token', async () => {
    const file = join(data.dir, 'not-a-folder');
    await writeFile(file, 'x');
    for (const args of [
      ['serve', '--port', '0', '--data', file],
      ['admin-token', '--data', join(file, 'below')],
    ]) {
      const run = await runCliToEnd(args);
      expect(run.code).toBe(1);
      expect(run.stderr).toEqual([
        `scimdesk: cannot use ${args.at(-1)} as the data folder: it, or a folder above it, is a file (fix that, or choose another folder with --data)`,
      ]);
    }
  });

  it('names in one line an entry of the data folder that is a folder where a file belongs, or the reverse', async () => {
    for (const [name, kind] of [
      ['scimdesk.lock', 'folder'],
      ['journal-0000000000000001.log', 'folder'],
      ['admin-signing.key', 'folder'],
      ['request-log', 'file'],
      ['history', 'file'],
    ] as const) {
      const other = await tempDataDir();
      try {
        const entry = join(other.dir, name);
        if (kind === 'folder') await mkdir(entry);
        else await writeFile(entry, 'x');
        const run = await runCliToEnd(['serve', '--port', '0', '--data', other.dir]);
        expect(run.code).toBe(1);
        const [is, keeps] = kind === 'folder' ? ['a folder', 'a file'] : ['not a folder', 'a folder'];
        expect(run.stderr).toEqual([
          `scimdesk: cannot use ${other.dir} as the data folder: ${entry} is ${is}, where scimdesk keeps ${keeps} of that name (move it away, or choose another folder with --data)`,
        ]);
      } finally {
        await other.remove();
      }
    }
  });

  it('names a data folder, or a folder above it, that is a symbolic link to nothing', async () => {
    const link = join(data.dir, 'link');
    const target = join(data.dir, 'gone');
    await symlink(target, link);
    for (const [args, subject] of [
      [['serve', '--port', '0', '--data', link], 'it'],
      [['admin-token', '--data', join(link, 'below')], link],
    ] as const) {
      const run = await runCliToEnd([...args]);
      expect(run.code).toBe(1);
      expect(run.stderr).toEqual([
        `scimdesk: cannot use ${args.at(-1)} as the data folder: ${subject} is a symbolic link to ${target}, which does not exist (fix that, or choose another folder with --data)`,
      ]);
    }
  });

  const root = process.getuid?.() === 0;
  if (!root) console.log('foreign-folder test skipped: only root can give a folder another owner');
  it.skipIf(!root)(
    'refuses in one line a request log or history folder that another account made in the data folder',
    async () => {
      for (const folder of ['request-log', 'history']) {
        const other = await tempDataDir();
        try {
          await mkdir(join(other.dir, folder), { mode: 0o700 });
          await chown(join(other.dir, folder), 4242, 4242);
          const run = await runCliToEnd(['serve', '--port', '0', '--data', other.dir]);
          expect(run.code).toBe(1);
          expect(run.stderr).toEqual([
            `scimdesk: ${join(other.dir, folder)} belongs to another user (uid 4242), who could read what is written there; move it away to start a new one, or run scimdesk as that user`,
          ]);
        } finally {
          await other.remove();
        }
      }
    },
  );

  // Node's recursive mkdir never settles for such a path: the server spun a core instead of answering.
  it.skipIf(!existsSync('/proc/self'))(
    'says in one line that a data folder the file system will not create cannot be used',
    async () => {
      for (const args of [
        ['serve', '--port', '0', '--data', '/proc/scimdesk-nope'],
        ['admin-token', '--data', '/proc/scimdesk-nope/below'],
      ]) {
        const run = await runCliToEnd(args);
        expect(run.code).toBe(1);
        expect(run.stderr).toEqual([
          `scimdesk: cannot use ${args.at(-1)} as the data folder: it cannot be created there (fix that, or choose another folder with --data)`,
        ]);
      }
    },
  );

  it('reports a port in use in one line with exit code 1', async () => {
    const first = runCli(['serve', '--port', '0', '--data', data.dir]);
    try {
      const port = /:(\d+)$/.exec(await first.waitForLine(/^listening on /))![1]!;
      const other = await tempDataDir();
      // A folder that does not exist yet: a start that cannot listen leaves it so (it used to be
      // made, and an existing one opened and replayed, before the port was tried).
      const folder = join(other.dir, 'not-yet');
      const second = await runCliToEnd(['serve', '--port', port, '--data', folder]);
      const made = existsSync(folder);
      await other.remove();
      expect(second.code).toBe(1);
      expect(second.stderr).toEqual([
        `scimdesk: cannot listen on 127.0.0.1:${port}: the address is in use (choose another --port, or --port 0 for any free one)`,
      ]);
      expect(made).toBe(false);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
  });

  it('reports a host that is no address of this machine in one line, without the exposure warning', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of a real interface.
    const run = await runCliToEnd(['serve', '--port', '0', '--host', '192.0.2.1', '--data', data.dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toEqual([
      'scimdesk: cannot listen on 192.0.2.1: no network interface of this machine has that address (--host)',
    ]);
  });

  it('defaults the data folder to SCIMDESK_DATA_DIR, and says which folder it uses', async () => {
    const run = runCli(['serve', '--port', '0'], { SCIMDESK_DATA_DIR: data.dir });
    try {
      await run.waitForLine(/^console: /);
      expect((await stat(join(data.dir, 'admin-signing.key'))).isFile()).toBe(true);
      // `admin-token` must be given the same folder: a quoted `~/x` is a folder named `~` here.
      await vi.waitFor(() => expect(run.stderr).toContain(`data folder: ${data.dir}`));
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });
});

describe('scimdesk admin-token', () => {
  it('notes that a data folder given to admin-token was new', async () => {
    const fresh = join(data.dir, 'typo');
    const minted = await runCliToEnd(['admin-token', '--data', fresh]);
    expect(minted.code).toBe(0);
    expect(minted.stderr.join('\n')).toMatch(/did not exist and was created/);
    const again = await runCliToEnd(['admin-token', '--data', fresh]);
    expect(again.stderr.join('\n')).not.toMatch(/did not exist/);
  });

  it('prints a token, as its last line, that the running server accepts', async () => {
    const server = runCli(['serve', '--port', '0', '--data', data.dir]);
    try {
      const url = (await server.waitForLine(/^listening on /)).slice('listening on '.length);
      const minted = await runCliToEnd(['admin-token', '--data', data.dir, '--ttl', '5m']);
      expect(minted.code).toBe(0);
      const token = minted.stdout.at(-1)!;
      const ok = await fetch(`${url}/api/v1/admin/tenants`, { headers: { Authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('creates the signing key exactly once when several commands race for it', async () => {
    const runs = await Promise.all(Array.from({ length: 4 }, () => runCliToEnd(['admin-token', '--data', data.dir])));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    // Every token, minted by a different process, must verify against the one key on disk.
    const server = runCli(['serve', '--port', '0', '--data', data.dir]);
    try {
      const url = (await server.waitForLine(/^listening on /)).slice('listening on '.length);
      for (const run of runs) {
        const response = await fetch(`${url}/api/v1/admin/tenants`, {
          headers: { Authorization: `Bearer ${run.stdout.at(-1)}` },
        });
        expect(response.status).toBe(200);
      }
      const { mode } = await stat(join(data.dir, 'admin-signing.key'));
      expect(mode & 0o777).toBe(0o600);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('CLI usage errors', () => {
  it.each([['--version'], ['-v'], ['version']])('%s prints the version from package.json', async (flag) => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runCliToEnd([flag]);
    expect(result).toMatchObject({ code: 0, stdout: [`scimdesk ${version}`], stderr: [] });
  });

  it.each([
    [['serve', '--bogus'], 'scimdesk serve --help'],
    [['serve', '--port', 'abc'], 'scimdesk serve --help'],
    [['serve', '--port'], 'scimdesk serve --help'],
    [['start', '--host', 'a b'], 'scimdesk start --help'],
    [['admin-token', '--ttl', 'forever'], 'scimdesk admin-token --help'],
    [['check', '--url', 'not a url', '--token', 't'], 'scimdesk check --help'],
    [['seed', '--users', 'many'], 'scimdesk seed --help'],
    [['frobnicate'], 'scimdesk --help'],
    [['--version', '--bogus'], 'scimdesk --help'],
    [['serve', '--port', '0', '--port', '1'], 'scimdesk serve --help'],
    [['seed', '--users=1', '--users', '2'], 'scimdesk seed --help'],
    [
      [
        'seed',
        '--url',
        'http://127.0.0.1:9/scim/v2',
        '--token',
        't',
        '--users',
        '1',
        '--groups',
        '0',
        '--concurrency',
        '100000',
      ],
      'scimdesk seed --help',
    ],
    [['help', 'frobnicate'], 'scimdesk --help'],
    [['help', 'seed', 'extra'], 'scimdesk --help'],
  ])('%j exits 2 with one line on stderr that points at %s', async (args, help) => {
    const result = await runCliToEnd(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toMatch(/^scimdesk: .+\(see '[^']+'\)$/);
    expect(result.stderr[0]!.endsWith(`(see '${help}')`)).toBe(true);
    expect(result.stdout).toEqual([]);
  });

  it.each([
    [['--help']],
    [['serve', '--help']],
    [['admin-token', '-h']],
    [['start', '--help']],
    [['check', '--help']],
    [['seed', '--help']],
  ])('%j prints usage and exits 0', async (args) => {
    const result = await runCliToEnd(args);
    expect(result.code).toBe(0);
    expect(result.stdout.join('\n')).toMatch(/Usage/);
  });

  it("'help COMMAND' prints that command's help, as COMMAND --help does", async () => {
    for (const command of ['serve', 'seed']) {
      const viaHelp = await runCliToEnd(['help', command]);
      expect(viaHelp.code).toBe(0);
      expect(viaHelp.stdout).toEqual((await runCliToEnd([command, '--help'])).stdout);
      expect(viaHelp.stdout[0]).toMatch(new RegExp(`^Usage: scimdesk ${command} `));
    }
  });

  it.each(['serve', 'start'])('%s --help explains each of its options', async (command) => {
    const help = (await runCliToEnd([command, '--help'])).stdout.join('\n');
    for (const flag of ['--host H', '--port P', '--data DIR', '-h, --help']) {
      expect(help).toMatch(new RegExp(`^  ${flag}\\s+\\S`, 'm'));
    }
  });
});

describe('data-folder lock', () => {
  it('refuses a second server on the same data folder, naming the pid', async () => {
    const first = runCli(['serve', '--port', '0', '--data', data.dir]);
    try {
      await first.waitForLine(/^listening on /);
      const second = await runCliToEnd(['serve', '--port', '0', '--data', data.dir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toHaveLength(1);
      expect(second.stderr[0]).toContain(`in use by scimdesk process ${first.child.pid}`);
      expect(second.stdout).toEqual([]);
      // On the same port too (the default case): the folder's server is what holds the port.
      const port = /:(\d+)$/.exec(first.lines.find((line) => line.startsWith('listening on '))!)![1]!;
      const samePort = await runCliToEnd(['serve', '--port', port, '--data', data.dir]);
      expect(samePort.code).toBe(1);
      expect(samePort.stderr).toEqual([expect.stringContaining(`in use by scimdesk process ${first.child.pid}`)]);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
    // Once the first server has stopped, the folder is free again.
    const third = runCli(['serve', '--port', '0', '--data', data.dir]);
    try {
      await third.waitForLine(/^console: /);
    } finally {
      third.child.kill('SIGTERM');
      expect((await third.exited).code).toBe(0);
    }
  });
});
