// Pure (no electron): unit-tested under Node. VS Code's rule: the main process validates the sender of
// every IPC message; a message from any other page, or from a subframe, is dropped.
import { APP_SCHEME, CHANNEL_HOSTS, type IpcChannel } from '../../shared/ipc.js';

export interface IpcSender {
  /** The URL of the frame that sent the message (`event.senderFrame.url`). */
  url: string | null | undefined;
  /** Whether that frame is its window's top frame. */
  isMainFrame: boolean;
}

/** True only for a top frame on the page the channel belongs to: `latchkey://<host>/…`, nothing else. */
export function isTrustedSender(channel: string, sender: IpcSender): boolean {
  if (!Object.hasOwn(CHANNEL_HOSTS, channel) || !sender.isMainFrame || typeof sender.url !== 'string') return false;
  let url: URL;
  try {
    url = new URL(sender.url);
  } catch {
    return false;
  }
  return url.protocol === `${APP_SCHEME}:` && url.host === CHANNEL_HOSTS[channel as IpcChannel] && url.username === '' && url.password === '';
}
