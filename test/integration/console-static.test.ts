import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimdesk } from '../../src-main/app';
import { startTestServer, type TestServer } from './harness';

/** fetch() normalises `..` away, so traversal attempts go out through node:http verbatim. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('headless console files', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('serves the console page with a strict CSP', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(await response.text()).toContain('<div id="app">');
  });

  it('serves the built assets the page links to', async () => {
    const html = await (await fetch(`${server.url}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const response = await fetch(`${server.url}${script}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
  });

  it('caches the hashed assets for good, and the page not at all, however the path is spelt', async () => {
    const html = await (await fetch(`${server.url}/`)).text();
    const script = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? '';
    const cacheOf = async (path: string) => {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      return response.headers.get('cache-control');
    };
    expect(await cacheOf(script)).toBe('max-age=31536000,immutable');
    expect(await cacheOf('/')).toBe('max-age=0');
    // fetch() would resolve the dots itself; sent as is, this is index.html too.
    const { hostname, port } = new URL(server.url);
    const cache = await new Promise<string | undefined>((resolve, reject) => {
      const req = request({ hostname, port, path: '/assets/%2e%2e/index.html' }, (res) => {
        res.resume();
        resolve(res.headers['cache-control']);
      });
      req.on('error', reject);
      req.end();
    });
    expect(cache).toBe('max-age=0');
  });

  it.each([
    '/../package.json',
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/..%2f..%2f..%2fpackage.json',
    '/..%5c..%5cpackage.json',
  ])('does not serve files outside the console folder: %s', async (path) => {
    const { status, body } = await rawGet(server.url, path);
    expect(status).toBe(404);
    expect(body).not.toContain('"name": "scimdesk"');
    expect(body).not.toContain('root:');
  });
});

describe('console not built', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scimdesk-nobuild-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('says how to build it instead of failing', async () => {
    const empty = join(dir, 'renderer');
    await writeFile(join(dir, 'placeholder'), '');
    const app = await startScimdesk({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), rendererDir: empty });
    try {
      const response = await fetch(`${app.address.url}/`);
      expect(response.status).toBe(503);
      expect(await response.text()).toMatch(/npm run build:app/);
    } finally {
      await app.close();
    }
  });
});
