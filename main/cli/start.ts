// `npm start` (through scripts/start.sh, which installs and builds first): the desktop app where an
// Electron binary and the app shell exist; otherwise the headless broker, saying so plainly.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveDataDir } from './data-dir.js';
import { main } from './latchkey.js';
import type { StartedBroker } from './serve.js';

/** Where the Electron shell (main/app) compiles to. */
const APP_ENTRY = fileURLToPath(new URL('../app/main.js', import.meta.url));

/**
 * The Electron binary, if one is installed. The `electron` package's own entry point downloads the binary
 * when it is missing (a network fetch on every start, failing offline), so what its install step wrote
 * (`path.txt`, then `dist/`) is read here instead, with no side effect.
 */
export function findElectron(): { binary: string } | { missing: string } {
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { missing: 'the electron package is not installed' };
  }
  const pathFile = join(packageDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) return existsSync(join(override, relative || 'electron')) ? { binary: join(override, relative || 'electron') } : { missing: `ELECTRON_OVERRIDE_DIST_PATH (${override}) holds no Electron binary` };
  if (relative === null) return { missing: 'the electron package has no binary: its download was skipped or failed (run `npx install-electron` where the internet is reachable)' };
  const binary = join(packageDir, 'dist', relative);
  if (!existsSync(binary)) return { missing: `the Electron binary is missing from ${dirname(binary)}` };
  return { binary };
}

/** Starts Latchkey; `argv` is passed to the broker (`--port N`, `--data-dir DIR`). Returns the exit code. */
export async function start(argv: string[]): Promise<number> {
  const electron = findElectron();
  if ('binary' in electron && existsSync(APP_ENTRY)) return runDesktopApp(electron.binary, argv);
  const why = 'missing' in electron ? `Electron is not available (${electron.missing})` : 'Electron is installed, but the desktop shell is not built (dist/main/app/main.js is missing)';
  process.stdout.write(`${why}: running the headless broker instead. Stop it with Ctrl+C.\n`);
  return main(['serve', ...argv], { serveBanner: banner });
}

/** Where the UI is, a link that signs in to it, and, when the vault waits for a passphrase, the command that gives it. */
function banner({ issuer, dataDir, vault, loginLink }: StartedBroker): string {
  const where = dataDir === resolveDataDir(undefined) ? '' : ` --data-dir ${shellQuote(dataDir)}`;
  const link = loginLink();
  const lines = [
    `  mode:     headless broker (the UI runs in your browser)`,
    `  UI:       ${issuer}/ui/`,
    ...(link
      ? [`  sign in:  open this one-time link${link.firstRun ? ' to set Latchkey up' : ''} (it works once, until ${link.expiresAt}; a new one: npx latchkey login-url${where})`, `            ${link.url}`]
      : [`  sign in:  the owner is disabled: no sign-in link`]),
  ];
  if (vault.state !== 'unlocked' && vault.backend !== 'keychain') {
    lines.push(`  unlock:   npx latchkey vault unlock${where}   (in another terminal; it asks for the passphrase)`);
  }
  return lines.join('\n');
}

const shellQuote = (value: string): string => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

async function runDesktopApp(binary: string, argv: string[]): Promise<number> {
  process.stdout.write(`Starting the Latchkey desktop app (Electron at ${binary}). Quit it from its tray menu or with Ctrl+C.\n`);
  const child = spawn(binary, [APP_ENTRY, ...argv], { stdio: 'inherit' });
  // Ctrl+C reaches both processes; let the app shut down and report its own exit.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.once('error', (error) => { process.stderr.write(`latchkey: cannot start Electron: ${error.message}\n`); resolve(1); });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await start(process.argv.slice(2));
  // The headless broker keeps running after start() returns; only a failure sets the exit code.
  if (code !== 0) process.exitCode = code;
}
