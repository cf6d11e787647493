// The IPC channels of the desktop shell and which page may use each (see ipc.ts, the whole contract).
// No imports: the sandboxed preload bundles this file and nothing else of shared/.

/** Where each page is served from (the shell's custom protocol); senders are checked against these. */
export const APP_SCHEME = 'latchkey';
export const UI_HOST = 'ui';
export const PROMPT_HOST = 'prompt';

/** Channel names. `invoke` channels answer; `event` channels go from main to a page. */
export const IPC = {
  /** UI → main (invoke): what the shell is (the UI shows desktop-only controls). */
  shellInfo: 'shell:info',
  /** UI → main (invoke): open an allowlisted external link in the OS browser. */
  openExternal: 'shell:open-external',
  /** Prompt page → main (invoke): the page is loaded; main answers with the prompt to show, or null. */
  promptReady: 'prompt:ready',
  /** Main → prompt page (event): show this prompt (replaces any shown). */
  promptShow: 'prompt:show',
  /** Prompt page → main (invoke): the user's answer. */
  promptAnswer: 'prompt:answer',
} as const;

export type IpcChannel = (typeof IPC)[keyof typeof IPC];

/** Which page may use which channel: the sender's frame must be on this host of the app's scheme. */
export const CHANNEL_HOSTS: Record<IpcChannel, typeof UI_HOST | typeof PROMPT_HOST> = {
  [IPC.shellInfo]: UI_HOST,
  [IPC.openExternal]: UI_HOST,
  [IPC.promptReady]: PROMPT_HOST,
  [IPC.promptShow]: PROMPT_HOST,
  [IPC.promptAnswer]: PROMPT_HOST,
};
