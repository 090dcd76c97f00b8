import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Whether a frame's URL is the app's own page, the file at `path` (a hash route allowed). Compared as
 * paths, not as URL text: Node's `pathToFileURL` escapes `~`, `[`, `]` and `%`, which the URL
 * Chromium loads keeps as they are, so an install under `C:\Users\JOHNSM~1\` had every admin call of
 * its own page refused. A query, another scheme, another file or a URL that does not parse is not it.
 */
export function isAppDocument(url: string, path: string, platform: NodeJS.Platform = process.platform): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // A host is a Windows share (file://server/share/…); elsewhere fileURLToPath refuses one.
  if (parsed.protocol !== 'file:' || parsed.search !== '') return false;
  parsed.hash = '';
  let file: string;
  try {
    file = fileURLToPath(parsed, { windows: platform === 'win32' });
  } catch {
    return false;
  }
  const [a, b] = [resolvePath(file, platform), resolvePath(path, platform)];
  // Windows paths are the same in any case; others are not.
  return platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b;
}

function resolvePath(path: string, platform: NodeJS.Platform): string {
  return platform === 'win32' ? path.replace(/\//g, '\\') : resolve(path);
}
