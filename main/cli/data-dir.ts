import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The data dir: `--data-dir`, else LATCHKEY_DATA_DIR, else the OS's per-user app-data folder (the same
 * folder Electron's `app.getPath('userData')` names, so the desktop app and `latchkey serve` agree).
 */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.LATCHKEY_DATA_DIR) return env.LATCHKEY_DATA_DIR;
  const home = homedir();
  switch (process.platform) {
    case 'darwin': return join(home, 'Library', 'Application Support', 'Latchkey');
    case 'win32': return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Latchkey');
    default: return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'Latchkey');
  }
}
