// Every IPC handler of the shell goes through IpcRouter: a message from another page, a subframe or a frame
// that is gone is refused, as is a payload its schema does not accept; the handler sees only parsed data.
// ipcMain is faked (it is only a registry of handlers).
import { describe, expect, it } from 'vitest';
import { IPC, promptAnswer } from '../../../shared/ipc.js';
import { silentLogger } from '../../../main/core/logger.js';
import { IpcRouter } from '../../../main/app/ipc-router.js';

type Handler = (event: unknown, payload: unknown) => Promise<unknown>;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  return { handlers, handle: (channel: string, handler: Handler) => handlers.set(channel, handler), removeHandler: (channel: string) => handlers.delete(channel) };
}

const mainFrame = { url: 'latchkey://prompt/prompt.html' };
const event = (frame: { url: string } | null, top = frame) => ({ senderFrame: frame, sender: { mainFrame: top } });

describe('IPC router', () => {
  const ipc = fakeIpcMain();
  const received: unknown[] = [];
  const router = new IpcRouter(ipc as never, silentLogger);
  router.handle(IPC.promptAnswer, promptAnswer, (answer) => { received.push(answer); return { accepted: true }; });
  const call = (e: unknown, payload: unknown) => ipc.handlers.get(IPC.promptAnswer)!(e, payload);

  it('hands a valid answer from the consent window\'s top frame to the handler, parsed', async () => {
    await expect(call(event(mainFrame), { id: 'apr_1', decision: 'deny' })).resolves.toEqual({ accepted: true });
    expect(received).toEqual([{ id: 'apr_1', decision: 'deny' }]);
  });

  it('refuses the UI page, a web page, a subframe, a destroyed frame, and says nothing more', async () => {
    const before = received.length;
    for (const e of [event({ url: 'latchkey://ui/' }), event({ url: 'https://evil.example/' }), event({ url: 'latchkey://prompt/prompt.html' }, { url: 'latchkey://prompt/prompt.html' }), event(null, mainFrame)]) {
      await expect(call(e, { id: 'apr_1', decision: 'allow' })).rejects.toThrow(/^refused$/);
    }
    expect(received.length).toBe(before);
  });

  it('refuses a payload its schema does not accept (extra fields, wrong types)', async () => {
    const before = received.length;
    for (const payload of [{ id: 'apr_1', decision: 'allow', remember: 1 }, { id: 1, decision: 'allow' }, 'allow', undefined]) {
      await expect(call(event(mainFrame), payload)).rejects.toThrow(/^refused$/);
    }
    expect(received.length).toBe(before);
  });

  it('removes its handlers on close', () => {
    router.close();
    expect(ipc.handlers.size).toBe(0);
  });
});
