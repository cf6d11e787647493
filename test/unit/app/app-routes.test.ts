// What a latchkey:// request may be: a UI file, a consent window file, an admin API call; never a path
// out of the directory the files live in.
import { describe, expect, it } from 'vitest';
import { routeAppRequest, safeRelativePath } from '../../../main/app/app-routes.js';
import { PROMPT_CSP, UI_CSP } from '../../../main/app/content-security-policy.js';

describe('latchkey:// routes', () => {
  it('serves the UI\'s files with its CSP, and index.html for the single-page app\'s routes', () => {
    expect(routeAppRequest('GET', 'latchkey://ui/')).toEqual({ kind: 'file', host: 'ui', file: 'index.html', contentType: 'text/html; charset=utf-8', csp: UI_CSP });
    expect(routeAppRequest('GET', 'latchkey://ui/applications/app_1')).toMatchObject({ kind: 'file', file: 'index.html' });
    expect(routeAppRequest('GET', 'latchkey://ui/assets/index-abc.js')).toMatchObject({ kind: 'file', file: 'assets/index-abc.js', contentType: 'text/javascript; charset=utf-8' });
  });

  it('forwards /api/… (any method) with its query', () => {
    expect(routeAppRequest('POST', 'latchkey://ui/api/agents/pause')).toEqual({ kind: 'api', pathAndQuery: '/api/agents/pause' });
    expect(routeAppRequest('GET', 'latchkey://ui/api/audit?limit=5&client_id=app_1')).toEqual({ kind: 'api', pathAndQuery: '/api/audit?limit=5&client_id=app_1' });
    expect(routeAppRequest('GET', 'latchkey://ui/apix')).toMatchObject({ kind: 'file', file: 'index.html' });
  });

  it('the consent window serves exactly its three files, with its own CSP', () => {
    expect(routeAppRequest('GET', 'latchkey://prompt/prompt.html')).toMatchObject({ kind: 'file', host: 'prompt', file: 'prompt.html', csp: PROMPT_CSP });
    expect(routeAppRequest('GET', 'latchkey://prompt/prompt-page.js')).toMatchObject({ kind: 'file', file: 'prompt-page.js' });
    expect(routeAppRequest('GET', 'latchkey://prompt/other.html')).toEqual({ kind: 'not_found' });
    expect(routeAppRequest('GET', 'latchkey://prompt/api/status')).toEqual({ kind: 'not_found' });
  });

  it('path traversal (plain, encoded, backslashes, dot files) finds nothing', () => {
    for (const url of ['latchkey://ui/../../etc/passwd', 'latchkey://ui/%2e%2e/%2e%2e/etc/passwd', 'latchkey://ui/assets/..%2f..%2fsecret.js', 'latchkey://ui/..%5c..%5csecret.js',
      'latchkey://ui/.env.js', 'latchkey://ui/a%00.js', 'latchkey://ui/C:%5cwindows.js', 'latchkey://ui/%E0%A4%A.js']) {
      const route = routeAppRequest('GET', url);
      if (route.kind === 'file') expect(route.file, url).not.toMatch(/\.\.|^\/|\\|\0|:/);
      if (route.kind === 'file') expect(['index.html', 'etc/passwd']).toContain(route.file);
    }
    expect(safeRelativePath('/assets/../../x.js')).toBeNull();
    expect(safeRelativePath('/assets/%2e%2e/x.js')).toBeNull();
    expect(safeRelativePath('/a\\b.js')).toBeNull();
    expect(safeRelativePath('/assets//x.js')).toBe('assets/x.js');
  });

  it('other hosts, schemes, ports, userinfo and methods that write find nothing', () => {
    for (const url of ['latchkey://evil/index.html', 'https://ui/index.html', 'latchkey://ui:8080/', 'latchkey://a@ui/', 'not a url']) expect(routeAppRequest('GET', url), url).toEqual({ kind: 'not_found' });
    expect(routeAppRequest('POST', 'latchkey://ui/index.html')).toEqual({ kind: 'not_found' });
    expect(routeAppRequest('GET', 'latchkey://ui/file.exe')).toEqual({ kind: 'not_found' });
  });
});
