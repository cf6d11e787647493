import { BrowserWindow } from 'electron';
import { uiUrl } from './app-protocol.js';
import { secureWebPreferences } from './secure-web-preferences.js';

/**
 * The main window: the React UI from `latchkey://ui/`. Closing it hides it (Latchkey lives in the tray);
 * it is destroyed only when the app quits.
 */
export class MainWindow {
  private window: BrowserWindow | null = null;
  private quitting = false;

  constructor(private readonly preload: string, private readonly devTools: boolean) {}

  /** Shows the window (creating it the first time), at a route of the UI. */
  show(path = '/'): void {
    if (!this.window || this.window.isDestroyed()) {
      this.window = this.create();
      void this.window.loadURL(uiUrl(path));
    } else if (path !== '/') {
      void this.window.loadURL(uiUrl(path));
    }
    if (this.window.isMinimized()) this.window.restore();
    this.window.show();
    this.window.focus();
  }

  /** From now on a close really closes (the app is quitting). */
  prepareToQuit(): void {
    this.quitting = true;
  }

  private create(): BrowserWindow {
    const window = new BrowserWindow({
      width: 1100,
      height: 760,
      minWidth: 420,
      minHeight: 480,
      title: 'Latchkey',
      show: false,
      autoHideMenuBar: true,
      webPreferences: secureWebPreferences(this.preload, 'ui', this.devTools),
    });
    window.once('ready-to-show', () => window.show());
    window.on('close', (event) => {
      if (this.quitting) return;
      event.preventDefault();
      window.hide();
    });
    window.on('closed', () => { this.window = null; });
    return window;
  }
}
