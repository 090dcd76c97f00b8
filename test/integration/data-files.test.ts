import { chmod, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer, tempDataDir } from './harness';

describe('the data folder', () => {
  it.runIf(process.platform !== 'win32')(
    'holds only files and folders its owner alone can read: journal, history, request log',
    async () => {
      const data = await tempDataDir();
      try {
        const server = await startTestServer({ dataDir: data.dir });
        const { token } = await server.tenantWithToken('Private');
        const created = await fetch(`${server.url}/scim/v2/Users`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
          body: JSON.stringify({ userName: 'private@example.com', name: { givenName: 'Pri' } }),
        });
        expect(created.status).toBe(201);
        await server.stop();
        const entries = await readdir(data.dir, { recursive: true });
        // The request log and the history are among them (user data and request bodies).
        expect(entries.some((name) => name.startsWith('request-log'))).toBe(true);
        expect(entries.some((name) => name.startsWith('history'))).toBe(true);
        const open: string[] = [];
        for (const name of entries) {
          const { mode } = await stat(join(data.dir, name));
          if ((mode & 0o077) !== 0) open.push(`${name} ${(mode & 0o777).toString(8)}`);
        }
        expect(open).toEqual([]);
      } finally {
        await data.remove();
      }
    },
  );

  it('refuses to start an empty store over a history of changes: its files were deleted or moved', async () => {
    const data = await tempDataDir();
    try {
      const first = await startTestServer({ dataDir: data.dir });
      const { token } = await first.tenantWithToken('Lost');
      await fetch(`${first.url}/scim/v2/Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ userName: 'lost@example.com' }),
      });
      await first.stop();
      for (const name of await readdir(data.dir)) {
        if (name === 'db.json' || name.startsWith('journal-')) await rm(join(data.dir, name));
      }
      await expect(startTestServer({ dataDir: data.dir })).rejects.toThrow(
        /has a resource history .* but no store: db\.json and the journal are missing or empty/,
      );
      // Started over on purpose: without the history, an empty folder starts.
      await rm(join(data.dir, 'history'), { recursive: true });
      const again = await startTestServer({ dataDir: data.dir });
      await again.stop();
    } finally {
      await data.remove();
    }
  });

  it.runIf(process.platform !== 'win32')(
    'makes the request log and history that an earlier build left readable to others private on start',
    async () => {
      const data = await tempDataDir();
      try {
        const first = await startTestServer({ dataDir: data.dir });
        const { token } = await first.tenantWithToken('Older');
        await fetch(`${first.url}/scim/v2/Users`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
          body: JSON.stringify({ userName: 'older@example.com' }),
        });
        await first.stop();
        // As an earlier build left them: folders 0755, files 0644.
        for (const name of await readdir(data.dir, { recursive: true })) {
          if (!name.startsWith('request-log') && !name.startsWith('history')) continue;
          const path = join(data.dir, name);
          await chmod(path, (await stat(path)).isDirectory() ? 0o755 : 0o644);
        }
        const second = await startTestServer({ dataDir: data.dir });
        await second.stop();
        const open: string[] = [];
        for (const name of await readdir(data.dir, { recursive: true })) {
          const { mode } = await stat(join(data.dir, name));
          if ((mode & 0o077) !== 0) open.push(`${name} ${(mode & 0o777).toString(8)}`);
        }
        expect(open).toEqual([]);
      } finally {
        await data.remove();
      }
    },
  );
});
