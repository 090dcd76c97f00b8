import { existsSync } from 'node:fs';

/** Playwright cannot download its own browser here; tests use Debian's (see README). */
export function chromiumExecutable(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((path): path is string => !!path && existsSync(path));
  if (!found) {
    throw new Error(
      'Chromium not found. Install it with `sudo apt-get install chromium` (or set CHROMIUM_PATH), then rerun.',
    );
  }
  return found;
}
