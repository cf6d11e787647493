// The typed IPC contract between the desktop shell's main process and its pages (issue 6): every channel,
// what travels on it (zod), and the API the preload exposes. Main validates the sender and the payload of
// every message; a page gets only these few calls, never Node, Electron or the admin token.
import { z } from 'zod';

// The channel names live in ipc-channels.ts, free of zod, so the preload's bundle carries no schema code
// (main checks every payload); they are part of this contract and exported from here.
export { APP_SCHEME, CHANNEL_HOSTS, IPC, PROMPT_HOST, UI_HOST, type IpcChannel } from './ipc-channels.js';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const text = (max: number) => z.string().max(max);

/** Calls that carry nothing send an empty object: anything else is refused. */
export const emptyRequest = z.object({}).strict();

export const shellInfo = z.object({ shell: z.literal('electron'), version: text(40), platform: text(20) }).strict();
export type ShellInfo = z.infer<typeof shellInfo>;

export const openExternalRequest = z.object({ url: z.string().url().max(2048) }).strict();
export type OpenExternalRequest = z.infer<typeof openExternalRequest>;

/** One hop of the delegation chain an approval also covers. */
export const promptHop = z.object({
  depth: z.number().int().min(1).max(16),
  client_id: id,
  application: text(200),
  resource: text(2048),
  scopes: z.array(text(200)).max(100),
}).strict();

/** What the consent window shows: plain data, rendered as text (never HTML). */
export const consentPrompt = z.object({
  id,
  application: text(200),
  client_id: id,
  /** false for a dynamically registered client: its name proves nothing. */
  verified: z.boolean(),
  resources: z.array(text(2048)).min(1).max(50),
  scopes: z.array(text(200)).max(100),
  binding_message: text(100).nullable(),
  downstream: z.array(promptHop).max(50),
  /** Epoch ms: Allow is refused before this (the page also keeps it disabled). */
  allow_at: z.number().int().nonnegative(),
  /** Epoch ms: unanswered by then, it is denied. */
  deny_at: z.number().int().nonnegative(),
}).strict();
export type ConsentPrompt = z.infer<typeof consentPrompt>;

export const promptAnswer = z.object({ id, decision: z.enum(['allow', 'deny']) }).strict();
export type PromptAnswer = z.infer<typeof promptAnswer>;

/** What main says to an answer: taken, or why not (too early, no longer shown). */
export const promptAnswerResult = z.object({ accepted: z.boolean(), reason: text(200).optional() }).strict();
export type PromptAnswerResult = z.infer<typeof promptAnswerResult>;

/** `window.latchkey` in the UI window (the preload's contextBridge API). */
export interface DesktopUiApi {
  shellInfo(): Promise<ShellInfo>;
  openExternal(url: string): Promise<boolean>;
}

/** `window.latchkeyPrompt` in the consent window. */
export interface DesktopPromptApi {
  ready(): Promise<ConsentPrompt | null>;
  onShow(listener: (prompt: ConsentPrompt) => void): void;
  answer(answer: PromptAnswer): Promise<PromptAnswerResult>;
}
