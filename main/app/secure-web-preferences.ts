import type { WebPreferences } from 'electron';

/**
 * What every window of the app runs with (Electron's security checklist): the page isolated from the
 * preload, sandboxed, without Node, with web security, no <webview>; the preload told which page it
 * serves, so it exposes only that page's API.
 */
export function secureWebPreferences(preload: string, surface: 'ui' | 'prompt', devTools: boolean): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools,
    additionalArguments: [`--latchkey-surface=${surface}`],
  };
}
