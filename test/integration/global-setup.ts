import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Integration tests run the built CLI and serve the built console: make sure out/ is current. */
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync(process.execPath, ['bin/build-if-needed.js'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the app build failed; integration tests need out/');
}
