import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The default data folder: SCIMDESK_DATA_DIR, else the OS app-data folder (DESIGN.md §3). The
 * Electron shell and the CLI share this rule, so both modes open the same installation.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.SCIMDESK_DATA_DIR) return env.SCIMDESK_DATA_DIR;
  const home = homedir();
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'scimdesk');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'scimdesk');
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'scimdesk');
}
