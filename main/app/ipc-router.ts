import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import type { z } from 'zod';
import type { IpcChannel } from '../../shared/ipc.js';
import type { Logger } from '../core/logger.js';
import { isTrustedSender } from './sender-validation.js';

/**
 * Every IPC handler goes through here: the sender must be the top frame of the page the channel belongs
 * to (sender-validation.ts), and the payload must parse with the channel's schema (shared/ipc.ts);
 * anything else is refused without a detail. Handlers get the parsed payload only, never the event.
 */
export class IpcRouter {
  private readonly channels: IpcChannel[] = [];

  constructor(private readonly ipc: IpcMain, private readonly log: Logger) {}

  handle<Schema extends z.ZodType, Result>(channel: IpcChannel, schema: Schema, handler: (payload: z.infer<Schema>) => Result | Promise<Result>): void {
    this.channels.push(channel);
    this.ipc.handle(channel, async (event: IpcMainInvokeEvent, payload: unknown) => {
      const frame = event.senderFrame;
      if (!isTrustedSender(channel, { url: frame?.url, isMainFrame: frame !== null && frame === event.sender.mainFrame })) {
        this.log.warn(`IPC ${channel} from an untrusted sender: refused`);
        throw new Error('refused');
      }
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        this.log.warn(`IPC ${channel} with a malformed payload: refused`);
        throw new Error('refused');
      }
      return handler(parsed.data);
    });
  }

  close(): void {
    for (const channel of this.channels) this.ipc.removeHandler(channel);
  }
}
