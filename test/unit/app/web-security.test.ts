// The web side of the shell under Node, with Electron's session, webContents and shell faked: every
// permission denied, downloads and network requests refused, navigation away blocked, new windows denied,
// and only allowlisted links handed to the OS browser.
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../main/core/logger.js';

const opened: string[] = [];
vi.mock('electron', () => ({ shell: { openExternal: async (url: string) => { opened.push(url); } } }));
const { WebSecurity } = await import('../../../main/app/web-security.js');

type Listener = (...args: any[]) => void;

function fakeSession() {
  const handlers: Record<string, any> = {};
  const events: Record<string, Listener> = {};
  return {
    handlers, events,
    setPermissionRequestHandler: (handler: any) => { handlers.request = handler; },
    setPermissionCheckHandler: (handler: any) => { handlers.check = handler; },
    setDevicePermissionHandler: (handler: any) => { handlers.device = handler; },
    on: (name: string, listener: Listener) => { events[name] = listener; },
    webRequest: { onBeforeRequest: (_filter: unknown, handler: any) => { handlers.beforeRequest = handler; } },
  };
}

function fakeContents(url: string) {
  const events: Record<string, Listener> = {};
  let windowOpen: (details: { url: string }) => { action: string } = () => ({ action: 'allow' });
  return {
    events,
    getURL: () => url,
    on: (name: string, listener: Listener) => { events[name] = listener; },
    setWindowOpenHandler: (handler: typeof windowOpen) => { windowOpen = handler; },
    open: (target: string) => windowOpen({ url: target }),
  };
}

const navigation = (url: string, isMainFrame = true) => {
  const event = { url, isMainFrame, prevented: false, preventDefault() { this.prevented = true; } };
  return event;
};

describe('web security of the shell', () => {
  const security = new WebSecurity(() => 'http://127.0.0.1:7433', silentLogger);

  it('denies every permission request and check, refuses downloads and any request that is not latchkey://', () => {
    const session = fakeSession();
    security.hardenSession(session as never);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const answer = vi.fn();
      session.handlers.request(null, permission, answer);
      expect(answer).toHaveBeenCalledWith(false);
    }
    expect(session.handlers.check()).toBe(false);
    expect(session.handlers.device()).toBe(false);
    const download = navigation('https://x/');
    session.events['will-download']!(download);
    expect(download.prevented).toBe(true);
    for (const [url, cancel] of [['latchkey://ui/api/status', false], ['http://127.0.0.1:7433/api/status', true], ['https://evil.example/x', true], ['file:///etc/passwd', true], ['ws://127.0.0.1:1/', true]] as const) {
      const answer = vi.fn();
      session.handlers.beforeRequest({ url }, answer);
      expect(answer, url).toHaveBeenCalledWith({ cancel });
    }
  });

  it('keeps a window on its own page: navigation elsewhere is prevented, an allowlisted link goes to the OS browser instead', () => {
    const contents = fakeContents('latchkey://ui/applications');
    security.hardenContents(contents as never);
    const inApp = navigation('latchkey://ui/audit');
    contents.events['will-navigate']!(inApp);
    expect(inApp.prevented).toBe(false);
    for (const url of ['latchkey://prompt/prompt.html', 'https://evil.example/', 'file:///etc/passwd', 'https://datatracker.ietf.org/doc/html/rfc8693']) {
      const away = navigation(url);
      contents.events['will-navigate']!(away);
      expect(away.prevented, url).toBe(true);
      const redirect = navigation(url);
      contents.events['will-redirect']!(redirect);
      expect(redirect.prevented, url).toBe(true);
    }
    expect(opened).toEqual(['https://datatracker.ietf.org/doc/html/rfc8693', 'https://datatracker.ietf.org/doc/html/rfc8693']);
  });

  it('denies every new window, opening only allowlisted links outside; refuses <webview>', () => {
    opened.length = 0;
    const contents = fakeContents('latchkey://ui/');
    security.hardenContents(contents as never);
    expect(contents.open('https://github.com/')).toEqual({ action: 'deny' });
    expect(contents.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(contents.open('latchkey://ui/')).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://github.com/']);
    const attach = navigation('');
    contents.events['will-attach-webview']!(attach);
    expect(attach.prevented).toBe(true);
  });
});
