// The main process answers an IPC message only from the page the channel belongs to, in its top frame.
import { describe, expect, it } from 'vitest';
import { IPC } from '../../../shared/ipc.js';
import { isTrustedSender } from '../../../main/app/sender-validation.js';

const top = (url: string | null | undefined) => ({ url, isMainFrame: true });

describe('IPC sender validation', () => {
  it('accepts the UI\'s channels from the UI and the prompt\'s from the consent window', () => {
    expect(isTrustedSender(IPC.shellInfo, top('latchkey://ui/'))).toBe(true);
    expect(isTrustedSender(IPC.openExternal, top('latchkey://ui/applications?x=1#y'))).toBe(true);
    expect(isTrustedSender(IPC.promptAnswer, top('latchkey://prompt/prompt.html'))).toBe(true);
    expect(isTrustedSender(IPC.promptReady, top('latchkey://prompt/prompt.html'))).toBe(true);
  });

  it('a page answering its own prompt from the UI window is refused (channel bound to its page)', () => {
    expect(isTrustedSender(IPC.promptAnswer, top('latchkey://ui/'))).toBe(false);
    expect(isTrustedSender(IPC.openExternal, top('latchkey://prompt/prompt.html'))).toBe(false);
  });

  it('a web page, a file, the loopback broker or a look-alike host is refused', () => {
    for (const url of ['https://evil.example/', 'file:///tmp/prompt.html', 'http://127.0.0.1:4000/ui/', 'latchkey://ui.evil/', 'latchkey://prompt.ui/',
      'latchkey://user:pass@ui/', 'latchkey://ui:99/', 'latchkeyx://ui/', 'data:text/html,<p>', 'about:blank', 'not a url', '', null, undefined]) {
      expect(isTrustedSender(IPC.promptAnswer, top(url)), String(url)).toBe(false);
      expect(isTrustedSender(IPC.shellInfo, top(url)), String(url)).toBe(false);
    }
  });

  it('a subframe is refused, even on our own page', () => {
    expect(isTrustedSender(IPC.promptAnswer, { url: 'latchkey://prompt/prompt.html', isMainFrame: false })).toBe(false);
  });

  it('an unknown channel, or one named after Object.prototype, is refused', () => {
    expect(isTrustedSender('shell:eval', top('latchkey://ui/'))).toBe(false);
    expect(isTrustedSender('constructor', top('latchkey://ui/'))).toBe(false);
    expect(isTrustedSender('__proto__', top('latchkey://ui/'))).toBe(false);
  });
});
