import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function globalSetup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync(process.execPath, ['bin/build-if-needed.js'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the app build failed; e2e tests need out/');
}
