// The desktop app's main process (issue 6): the only code, with main/app's other modules, that imports
// electron. It runs the broker in this process (DESIGN.md §4), built as `latchkey serve` builds it
// (main/cli/serve.ts), and adds what a desktop has: the tray, the main window with the React UI served from
// `latchkey://ui/`, the native consent window, and a typed IPC contract. Each concern is a class of its own,
// constructed here (constructor injection, no container), as Bitwarden desktop's main.ts does.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, ipcMain, session } from 'electron';
import { emptyRequest, IPC, openExternalRequest, promptAnswer } from '../../shared/ipc.js';
import { openBroker, stopBroker, type RunningBroker } from '../cli/serve.js';
import { stderrLogger } from '../core/logger.js';
import { AppProtocol } from './app-protocol.js';
import { providerLoginOrigins } from './external-links.js';
// First of the shell's own imports: its side effects are what must happen before the ready event.
import { startup } from './before-ready.js';
import { IpcRouter } from './ipc-router.js';
import { MainWindow } from './main-window.js';
import { NativePrompter } from './native-prompter.js';
import { PromptQueue } from './prompt-queue.js';
import { PromptWindow } from './prompt-window.js';
import { AppTray } from './tray.js';
import type { TrayAction } from './tray-menu.js';
import { WebSecurity } from './web-security.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Built beside this file (rolldown.config.js): the sandboxed preload and the consent window's page. */
const PRELOAD = join(here, 'preload.cjs');
const PROMPT_ROOT = join(here, 'prompt');
/** The React UI's build, from the repository (or the app bundle) root: dist/main/app → ../../../renderer/dist. */
const UI_ROOT = join(here, '..', '..', '..', 'renderer', 'dist');
/** How often the tray and the consent queue look at the broker (pending approvals answered elsewhere, expiry). */
const REFRESH_MS = 2_000;

async function main(): Promise<void> {
  const { dataDir, port, socket: socketPath, hidden } = startup;
  if (!app.requestSingleInstanceLock()) {
    process.stdout.write('Latchkey is already running for this data dir: showing its window.\n');
    app.quit();
    return;
  }
  await app.whenReady();

  const log = stderrLogger;
  const devTools = !app.isPackaged;
  let running: RunningBroker | null = null;
  // Connect (brokered access) opens a registered provider's login page in the OS browser.
  const webSecurity = new WebSecurity(() => running?.issuer ?? null, log, () => (running ? providerLoginOrigins(running.broker.providers.list()) : []));
  webSecurity.hardenSession(session.defaultSession);
  app.on('web-contents-created', (_event, contents) => webSecurity.hardenContents(contents));

  let queue: PromptQueue | null = null;
  let tray: AppTray | null = null;
  const promptWindow = new PromptWindow(PRELOAD, devTools, (id) => { queue?.dismissed(id); tray?.refresh(); });
  try {
    running = await openBroker({
      dataDir,
      port,
      socket: socketPath,
      log,
      // The consent window hears of approvals from before runtime.json tells anyone where the broker is.
      beforeAnnounce: ({ broker }) => {
        queue = new PromptQueue(promptWindow, {
          approve: (id) => { broker.approvals.approve(id); },
          deny: (id) => { broker.approvals.deny(id); },
          isPending: (id) => { const approval = broker.approvals.get(id); return approval?.status === 'pending' && approval.expiresAt > broker.clock.now(); },
        }, broker.clock, log);
        broker.approvals.addPrompter(new NativePrompter(queue, () => promptWindow.focus(), () => tray?.refresh()));
      },
    });
  } catch (error) {
    dialog.showErrorBox('Latchkey cannot start', whyNotStarted(error as Error));
    app.exit(1);
    return;
  }
  const { broker, issuer, socket } = running;
  const prompts = queue!;

  new AppProtocol({ uiRoot: UI_ROOT, promptRoot: PROMPT_ROOT, issuer: () => issuer, adminToken: broker.adminToken, log }).register(session.defaultSession);

  const ipc = new IpcRouter(ipcMain, log);
  ipc.handle(IPC.shellInfo, emptyRequest, () => ({ shell: 'electron' as const, version: process.versions.electron ?? '', platform: process.platform }));
  ipc.handle(IPC.openExternal, openExternalRequest, ({ url }) => webSecurity.openOutside(url));
  ipc.handle(IPC.promptReady, emptyRequest, () => prompts.current());
  ipc.handle(IPC.promptAnswer, promptAnswer, (answer) => {
    const result = prompts.answer(answer);
    tray?.refresh();
    return result;
  });

  const mainWindow = new MainWindow(PRELOAD, devTools);
  const act = (action: TrayAction): void => {
    try {
      switch (action) {
        case 'approvals': mainWindow.show('/approvals'); break;
        case 'open': mainWindow.show(); break;
        case 'pause': broker.agentPause.set(!broker.agentPause.paused, 'the user (tray)'); break;
        case 'lock': broker.lockVault('the user (tray)'); break;
        // A keychain vault reopens from its keychain; a passphrase is typed in the UI, never in a tray.
        case 'unlock':
          if (broker.vaultStatus().backend === 'keychain') void broker.unlockVault(undefined).catch((error: unknown) => dialog.showErrorBox('Latchkey', (error as Error).message)).finally(() => tray?.refresh());
          else mainWindow.show('/settings');
          break;
        case 'quit': app.quit(); break;
      }
    } catch (error) {
      dialog.showErrorBox('Latchkey', (error as Error).message);
    }
    tray?.refresh();
  };
  tray = new AppTray(() => {
    const vault = broker.vaultStatus();
    return { pendingApprovals: broker.approvals.pending().length, agentsPaused: broker.agentPause.paused, vault: vault.state, vaultBackend: vault.backend };
  }, act);
  const ticker = setInterval(() => { prompts.refresh(); tray?.refresh(); }, REFRESH_MS);

  // Latchkey lives in the tray: closing the last window does not quit it.
  app.on('window-all-closed', () => {});
  app.on('second-instance', () => mainWindow.show());
  app.on('activate', () => mainWindow.show());
  app.on('before-quit', () => mainWindow.prepareToQuit());
  let stopped = false;
  app.on('will-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    clearInterval(ticker);
    prompts.close();
    tray?.destroy();
    ipc.close();
    void stopBroker(dataDir, broker).catch((error: unknown) => log.error(`closing the broker: ${(error as Error).message}`)).finally(() => {
      stopped = true;
      app.exit(0);
    });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => app.quit());

  const vault = broker.vaultStatus();
  process.stdout.write(`Latchkey desktop app: the broker is listening at ${issuer}\n  socket:   ${socket}\n  data dir: ${dataDir}\n  vault:    ${vault.state}${vault.backend ? ` (${vault.backend})` : ''}\n`);
  if (vault.message) process.stdout.write(`  ${vault.message}\n`);
  if (!hidden) mainWindow.show();
}

/** A native module built for Node, not this Electron, is the usual first-run problem of a development checkout. */
function whyNotStarted(error: Error): string {
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(error.message)) {
    return `${error.message}\n\nbetter-sqlite3 in node_modules is built for Node, not for Electron. Run \`npx electron-builder install-app-deps\` to build it for Electron (and \`npm rebuild better-sqlite3\` to go back to running the tests under Node). Packaged apps are built for Electron already.`;
  }
  return error.message;
}

main().catch((error: unknown) => {
  dialog.showErrorBox('Latchkey failed', (error as Error).stack ?? String(error));
  app.exit(1);
});
