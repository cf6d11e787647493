// What must happen before Electron's ready event. The main process is an ES module, and Electron runs only
// the side effects of the entry point's imports before ready (docs/tutorial/esm): so this module, imported
// by main.ts, does it as a side effect of being imported. It reads the command line, registers latchkey://
// as a privileged scheme, and moves Chromium's profile apart from the broker's files.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { app } from 'electron';
import { resolveDataDir } from '../cli/data-dir.js';
import { DEFAULT_PORT } from '../cli/latchkey.js';
import { declareAppScheme } from './app-protocol.js';

export interface StartupOptions {
  dataDir: string;
  port: number;
  socket: string | undefined;
  /** Start in the tray, without the main window (an autostart entry). */
  hidden: boolean;
}

function readOptions(): StartupOptions {
  const { values } = parseArgs({
    args: process.argv.slice(app.isPackaged ? 1 : 2),
    options: { 'data-dir': { type: 'string' }, port: { type: 'string' }, socket: { type: 'string' }, hidden: { type: 'boolean' } },
    // Chromium and the OS add switches of their own.
    strict: false,
  });
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  return {
    dataDir: resolveDataDir(values['data-dir'] as string | undefined),
    port: Number.isInteger(port) && port >= 0 && port < 65536 ? port : DEFAULT_PORT,
    socket: values.socket as string | undefined,
    hidden: values.hidden === true,
  };
}

// The broker runs in this process: its Cedar wasm compiled by Liftoff alone, as `latchkey serve` does
// (main/cli/serve.ts says why: ~60 MB less memory). Before anything has compiled wasm.
setFlagsFromString('--liftoff-only');

export const startup = readOptions();
declareAppScheme();
mkdirSync(startup.dataDir, { recursive: true, mode: 0o700 });
// Chromium's profile (cache, storage) apart from the broker's files; the single-instance lock lives there too.
app.setPath('userData', join(startup.dataDir, 'desktop'));
