import { chmod, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer, tempDataDir } from './harness';

/** Runs a server on `dir` that creates a tenant and one user, then stops: a folder with data. */
async function withOneUser(dir: string, userName: string): Promise<void> {
  const server = await startTestServer({ dataDir: dir });
  try {
    const { token } = await server.tenantWithToken(userName);
    const created = await fetch(`${server.url}/scim/v2/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName, name: { givenName: 'Pri' } }),
    });
    expect(created.status).toBe(201);
  } finally {
    await server.stop();
  }
}

/** The entries of the folder that others than its owner may read or enter, with their modes. */
async function openToOthers(dir: string): Promise<string[]> {
  const open: string[] = [];
  for (const name of await readdir(dir, { recursive: true })) {
    const { mode } = await stat(join(dir, name));
    if ((mode & 0o077) !== 0) open.push(`${name} ${(mode & 0o777).toString(8)}`);
  }
  return open;
}

describe('the data folder', () => {
  it.runIf(process.platform !== 'win32')(
    'holds only files and folders its owner alone can read: journal, history, request log',
    async () => {
      const data = await tempDataDir();
      try {
        await withOneUser(data.dir, 'private@example.com');
        const entries = await readdir(data.dir, { recursive: true });
        // The request log and the history are among them (user data and request bodies).
        expect(entries.some((name) => name.startsWith('request-log'))).toBe(true);
        expect(entries.some((name) => name.startsWith('history'))).toBe(true);
        expect(await openToOthers(data.dir)).toEqual([]);
      } finally {
        await data.remove();
      }
    },
  );

  it('refuses to start an empty store over a history of changes: its files were deleted or moved', async () => {
    const data = await tempDataDir();
    try {
      await withOneUser(data.dir, 'lost@example.com');
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
        await withOneUser(data.dir, 'older@example.com');
        // As an earlier build left them: folders 0755, files 0644.
        for (const name of await readdir(data.dir, { recursive: true })) {
          if (!name.startsWith('request-log') && !name.startsWith('history')) continue;
          const path = join(data.dir, name);
          await chmod(path, (await stat(path)).isDirectory() ? 0o755 : 0o644);
        }
        const second = await startTestServer({ dataDir: data.dir });
        await second.stop();
        expect(await openToOthers(data.dir)).toEqual([]);
      } finally {
        await data.remove();
      }
    },
  );
});
