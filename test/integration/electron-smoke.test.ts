import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { probeDesktop } from '../../src-main/cli/desktop';
import { ROOT, tempDataDir } from './harness';

const desktop = probeDesktop();
if (!desktop.ok) {
  // Printed so that a skipped desktop test is never silent (see README: the binary cannot be fetched here).
  console.log(`electron smoke test skipped: ${desktop.reason}`);
}

describe('desktop shell', () => {
  it.skipIf(!desktop.ok)('starts Electron, which starts the server', async () => {
    if (!desktop.ok) return;
    const data = await tempDataDir();
    const child = spawn(desktop.binary, [ROOT, '--no-sandbox'], {
      env: { ...process.env, SCIMDESK_DATA_DIR: data.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('Electron printed no listening line in 30 s')), 30_000);
        child.stdout.on('data', (chunk: Buffer) => {
          const match = /listening on (http:\/\/\S+)/.exec(chunk.toString());
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`Electron exited early with ${code}`)));
      });
      const response = await fetch(`${line}/scim/v2/ServiceProviderConfig`);
      expect(response.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await data.remove();
    }
  });
});

describe('npm start without a desktop', () => {
  it.runIf(!desktop.ok)('says why in one line and serves the web console instead', async () => {
    const data = await tempDataDir();
    const child = spawn(process.execPath, ['bin/scimdesk.js', 'start', '--port', '0', '--data', data.dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no console line in 60 s; stderr: ${stderr}`)), 60_000);
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (/console: http/.test(stdout)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const notice = stderr.split('\n').filter((line) => line.startsWith('scimdesk: not starting the desktop app'));
      expect(notice).toHaveLength(1);
      expect(notice[0]).toMatch(/because .+; serving the web console instead$/);
      expect(stdout).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\nconsole: http:\/\/127\.0\.0\.1:\d+\/#code=/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await data.remove();
    }
  });
});
