import { BrowserWindow } from 'electron';
import { IPC, type ConsentPrompt } from '../../shared/ipc.js';
import { PROMPT_PAGE_URL } from './app-protocol.js';
import type { PromptSurface } from './prompt-queue.js';
import { secureWebPreferences } from './secure-web-preferences.js';

/**
 * The native consent window (issue 6): small, always on top, one prompt at a time (the queue decides
 * which). Its page (prompt/prompt.html) asks for the prompt when it loads and gets each next one over
 * IPC. Closing it without an answer is a denial.
 */
export class PromptWindow implements PromptSurface {
  private window: BrowserWindow | null = null;
  private shown: ConsentPrompt | null = null;
  /** Windows being closed by `hide()`: their closing is no answer. */
  private readonly closingQuietly = new WeakSet<BrowserWindow>();

  constructor(
    private readonly preload: string,
    private readonly devTools: boolean,
    private readonly onDismissed: (id: string) => void,
  ) {}

  show(prompt: ConsentPrompt): void {
    this.shown = prompt;
    if (!this.window || this.window.isDestroyed()) {
      // The page asks for `current()` once loaded (IPC.promptReady), so nothing is sent before it listens.
      this.window = this.create();
      void this.window.loadURL(PROMPT_PAGE_URL);
      return;
    }
    this.window.webContents.send(IPC.promptShow, prompt);
    this.window.show();
    this.window.focus();
  }

  hide(): void {
    this.shown = null;
    const window = this.window;
    this.window = null;
    if (!window || window.isDestroyed()) return;
    // Detached at once: a prompt that comes while it closes gets a new window, not this closing one.
    this.closingQuietly.add(window);
    window.close();
  }

  focus(): void {
    if (this.window && !this.window.isDestroyed()) {
      this.window.show();
      this.window.focus();
    }
  }

  private create(): BrowserWindow {
    const window = new BrowserWindow({
      width: 460,
      height: 520,
      resizable: false,
      minimizable: false,
      maximizable: false,
      fullscreenable: false,
      alwaysOnTop: true,
      title: 'Latchkey — an agent asks for access',
      show: false,
      autoHideMenuBar: true,
      webPreferences: secureWebPreferences(this.preload, 'prompt', this.devTools),
    });
    // Above full-screen windows too: a request must not wait unseen behind a video call.
    window.setAlwaysOnTop(true, 'screen-saver');
    window.setVisibleOnAllWorkspaces(true);
    window.once('ready-to-show', () => { window.show(); window.focus(); });
    window.on('closed', () => {
      if (this.closingQuietly.has(window)) return;
      if (this.window === window) this.window = null;
      const id = this.shown?.id;
      this.shown = null;
      // The user closed it without answering: Deny, the default.
      if (id) this.onDismissed(id);
    });
    return window;
  }
}
