import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServices, type Services } from '../../../src-main/services/index';
import { openDurableStore, type DurableStore } from '../../../src-main/store/durable-store';

export interface ServiceHarness {
  dir: string;
  store: DurableStore;
  services: Services;
  clock: { now(): number; advance(ms: number): void };
  /** Closes and reopens the store and services on the same folder (a restart). */
  restart(): Promise<void>;
  /** Every byte the data folder holds, as text (for "no secret on disk" checks). */
  diskText(): Promise<string>;
  close(): Promise<void>;
}

const quiet = { info: () => undefined, warn: () => undefined, error: (...args: unknown[]) => console.error(...args) };

export async function serviceHarness(): Promise<ServiceHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'scimdesk-svc-'));
  let now = Date.UTC(2026, 0, 1, 9, 0, 0);
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  const cheap = { params: { N: 2 ** 10, r: 8, p: 1, keyLength: 32 }, workers: 1 };
  const harness: ServiceHarness = {
    dir,
    clock,
    store: await openDurableStore(dir),
    services: undefined as unknown as Services,
    async restart() {
      await harness.services.close();
      await harness.store.close();
      harness.store = await openDurableStore(dir);
      harness.services = await createServices({ store: harness.store, clock, hasher: cheap, dataDir: dir, log: quiet });
    },
    async diskText() {
      const names = await readdir(dir, { recursive: true });
      const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8').catch(() => '')));
      return texts.join('\n');
    },
    async close() {
      await harness.services.close();
      await harness.store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  harness.services = await createServices({ store: harness.store, clock, hasher: cheap, dataDir: dir, log: quiet });
  return harness;
}
