import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

/**
 * Sends each request on its own connection, all at once, from a process of its own (a client in
 * the test's process would share the server's event loop, and send each request only between two
 * of the server's turns); resolves with the requests' names in the order their answers ended, each
 * with its status line.
 */
function sendTogether(url: string, requests: { name: string; path: string; token: string }[]): Promise<string[]> {
  const client = `
    const { connect } = require('node:net');
    const [host, port, json] = process.argv.slice(1);
    const requests = JSON.parse(json);
    const END = '\\r\\n\\r\\n';
    const order = [];
    const texts = requests.map(() => '');
    const warmed = requests.map(() => false);
    const told = requests.map(() => false);
    let warm = 0;
    const sockets = requests.map(() => connect(Number(port), host));
    // Each connection is taken and read by the server (a HEAD answered on it) before the requests
    // are written, all in one go: so they reach a server that reads them together.
    const writeAll = () => requests.forEach((r, k) => sockets[k].write(
      'GET ' + r.path + ' HTTP/1.1\\r\\nHost: ' + host + '\\r\\nAuthorization: Bearer ' + r.token +
      '\\r\\nConnection: close' + END));
    sockets.forEach((socket, i) => {
      socket.once('connect', () => socket.write('HEAD /scim/v2/ServiceProviderConfig HTTP/1.1\\r\\nHost: ' + host + END));
      socket.setEncoding('utf8').on('data', (chunk) => {
        texts[i] += chunk;
        const head = texts[i].indexOf(END);
        if (head === -1) return;
        if (!warmed[i] && (warmed[i] = true) && ++warm === sockets.length) writeAll();
        // The answer's status line as soon as it comes: the order the server wrote them in.
        const answer = texts[i].slice(head + END.length);
        if (told[i] || !answer.includes('\\r\\n')) return;
        told[i] = true;
        order.push(requests[i].name + ' ' + answer.split('\\r\\n')[0]);
        if (order.length === requests.length) console.log(JSON.stringify(order));
      });
    });
  `;
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', client, hostname, port, JSON.stringify(requests)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject).on('close', () => resolve(JSON.parse(out) as string[]));
  });
}

describe('lists that may hold the thread long take turns', () => {
  let server: TestServer;
  let busy: { token: string };
  let quiet: { token: string; userId: string };

  beforeAll(async () => {
    server = await startTestServer();
    const a = await server.tenantWithToken('Busy');
    const c = await server.tenantWithToken('Quiet', a.admin);
    for (let batch = 0; batch < 2; batch++) {
      const Operations = Array.from({ length: 700 }, (_, i) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `u${i}`,
        data: { userName: `user-${batch}-${i}@busy.test`, displayName: `Busy User ${batch} ${i}` },
      }));
      const answer = await fetch(`${server.url}/scim/v2/Bulk`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${a.token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ schemas: [BULK], Operations }),
      });
      expect(answer.status).toBe(200);
    }
    const made = await fetch(`${server.url}/scim/v2/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${c.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'only@quiet.test' }),
    });
    quiet = { token: c.token, userId: String(((await made.json()) as { id: string }).id) };
    busy = { token: a.token };
  });
  afterAll(() => server.stop());

  it("answers another tenant's GET between one tenant's scans, not after all of them", async () => {
    // Filters no index answers, each different so that no list is served from the list cache.
    const scan = (n: number) => {
      const terms = Array.from({ length: 200 }, (_, i) => `displayName co "zz${n}-${i}"`).join(' or ');
      return `/scim/v2/Users?count=1&filter=${encodeURIComponent(terms)}`;
    };
    const finished = await sendTogether(server.url, [
      ...Array.from({ length: 6 }, (_, n) => ({ name: `scan ${n}`, path: scan(n), token: busy.token })),
      { name: 'get', path: `/scim/v2/Users/${quiet.userId}`, token: quiet.token },
    ]);
    expect(finished).toHaveLength(7);
    expect(finished.every((line) => line.endsWith('HTTP/1.1 200 OK'))).toBe(true);
    // Sent together with six scans, the GET waits for the scan under way at most.
    expect(finished.indexOf('get HTTP/1.1 200 OK')).toBeLessThan(3);
  });

  it("answers another tenant's GET between pages of groups with many members, not after all of them", async () => {
    // Twenty-four groups of the busy tenant's 1,400 users: 33,600 members, which each page answers.
    const users = (await (
      await fetch(`${server.url}/scim/v2/Users?count=1000&attributes=id`, {
        headers: { Authorization: `Bearer ${busy.token}` },
      })
    ).json()) as { Resources: { id: string }[] };
    const more = (await (
      await fetch(`${server.url}/scim/v2/Users?startIndex=1001&count=1000&attributes=id`, {
        headers: { Authorization: `Bearer ${busy.token}` },
      })
    ).json()) as { Resources: { id: string }[] };
    const members = [...users.Resources, ...more.Resources].map(({ id }) => ({ value: id }));
    expect(members).toHaveLength(1400);
    for (let g = 0; g < 24; g++) {
      const made = await fetch(`${server.url}/scim/v2/Groups`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${busy.token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ displayName: `Everyone ${g}`, members }),
      });
      expect(made.status).toBe(201);
    }
    // Each page different, so that none is served from the list cache.
    const finished = await sendTogether(server.url, [
      ...Array.from({ length: 6 }, (_, n) => ({
        name: `page ${n}`,
        path: `/scim/v2/Groups?startIndex=${n + 1}&count=${24 - n}`,
        token: busy.token,
      })),
      { name: 'get', path: `/scim/v2/Users/${quiet.userId}`, token: quiet.token },
    ]);
    expect(finished).toHaveLength(7);
    expect(finished.every((line) => line.endsWith('HTTP/1.1 200 OK'))).toBe(true);
    expect(finished.indexOf('get HTTP/1.1 200 OK')).toBeLessThan(3);
  });
});
