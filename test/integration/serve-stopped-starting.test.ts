/**
 * `scimdesk serve` stopped while it starts (its journal still replaying): it stops once up, and
 * says nothing a script would read as "ready". Run in this process, so that the signal comes at a
 * known moment: sent to a child, it raced Node's own start-up.
 */
import { afterEach, expect, it } from 'vitest';
import { serve } from '../../src-main/cli/serve';
import { REQUEST_LOG_WORKER, RENDERER_DIR, tempDataDir } from './harness';

let data: { dir: string; remove: () => Promise<void> };
const before = new Map((['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((name) => [name, process.listeners(name)]));
afterEach(async () => {
  for (const [name, listeners] of before) {
    for (const listener of process.listeners(name)) if (!listeners.includes(listener)) process.off(name, listener);
  }
  await data?.remove();
});

it('prints no ready lines, and exits 0, when stopped while starting', async () => {
  data = await tempDataDir();
  const out: string[] = [];
  const err: string[] = [];
  const running = serve(
    { host: '127.0.0.1', port: 0, dataDir: data.dir, requestLogWorker: REQUEST_LOG_WORKER },
    RENDERER_DIR,
    { out: (line) => out.push(line), err: (line) => err.push(line) },
  );
  // Emitted, not sent: the handler serve installed runs as for a real SIGINT, while it starts.
  process.emit('SIGINT', 'SIGINT');
  expect(await running).toBe(0);
  expect(err.join('\n')).toMatch(/received SIGINT while starting/);
  // "listening on" and a one-time code nobody could use, for a server already going.
  expect(out).toEqual([]);
});
