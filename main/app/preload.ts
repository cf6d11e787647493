// The preload of every window (bundled to one CommonJS file: a sandboxed preload cannot load modules).
// It exposes only the calls of its page's API (shared/ipc.ts) through contextBridge: no ipcRenderer, no
// event objects, nothing of Node. Main checks the sender and the payload of each call anyway.
import { contextBridge, ipcRenderer } from 'electron';
import { IPC } from '../../shared/ipc-channels.js';
import type { ConsentPrompt, DesktopPromptApi, DesktopUiApi, PromptAnswer, PromptAnswerResult, ShellInfo } from '../../shared/ipc.js';

const surface = process.argv.find((arg) => arg.startsWith('--latchkey-surface='))?.slice('--latchkey-surface='.length);

if (surface === 'prompt') {
  const api: DesktopPromptApi = {
    ready: () => ipcRenderer.invoke(IPC.promptReady, {}) as Promise<ConsentPrompt | null>,
    // The listener gets the prompt only, never the IPC event (whose sender would reach ipcRenderer).
    onShow: (listener) => { ipcRenderer.on(IPC.promptShow, (_event, prompt: ConsentPrompt) => listener(prompt)); },
    answer: (answer: PromptAnswer) => ipcRenderer.invoke(IPC.promptAnswer, { id: answer.id, decision: answer.decision }) as Promise<PromptAnswerResult>,
  };
  contextBridge.exposeInMainWorld('latchkeyPrompt', api);
} else if (surface === 'ui') {
  const api: DesktopUiApi = {
    shellInfo: () => ipcRenderer.invoke(IPC.shellInfo, {}) as Promise<ShellInfo>,
    openExternal: (url: string) => ipcRenderer.invoke(IPC.openExternal, { url: String(url) }) as Promise<boolean>,
  };
  contextBridge.exposeInMainWorld('latchkey', api);
}
