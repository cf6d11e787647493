// The headless broker serves the built React UI at /ui/ (issue 6 item 1): its page under a strict CSP
// and never cached, its hashed assets cached long, nothing outside renderer/dist; a clear page when the
// UI is not built. And the live audit feed the UI listens to.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../main/core/broker.js';
import { silentLogger } from '../../main/core/logger.js';
import { removeDataDir, startBroker, TEST_PASSPHRASE, TEST_SCRYPT, type TestBroker } from '../support/broker.js';
import { rawRequest } from '../support/refusals.js';

const UI_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const DIST = resolve(import.meta.dirname, '../../renderer/dist');

describe('the UI served by the headless broker', () => {
  let test: TestBroker;

  beforeAll(async () => {
    test = await startBroker({ socket: true });
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('/ui/ is the built page under the strict CSP, not framable, never cached', async () => {
    const response = await fetch(`${test.issuer}/ui/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(UI_CSP);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = await response.text();
    expect(html).toContain('<div id="root"></div>');
    // No inline script or style for the CSP to refuse: every script is a file of the build.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\.\/assets\/[\w.-]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('/ and /ui lead to /ui/', async () => {
    expect((await fetch(`${test.issuer}/`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/');
    expect((await fetch(`${test.issuer}/ui`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/');
  });

  it('hashed assets are served with their type and a year-long immutable cache', async () => {
    const assets = readdirSync(join(DIST, 'assets'));
    const script = assets.find((name) => name.endsWith('.js'))!;
    const style = assets.find((name) => name.endsWith('.css'))!;
    for (const [name, type] of [[script, 'text/javascript; charset=utf-8'], [style, 'text/css; charset=utf-8']] as const) {
      const response = await fetch(`${test.issuer}/ui/assets/${name}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('nothing outside renderer/dist/assets can be named', async () => {
    for (const path of ['/ui/assets/missing.js', '/ui/assets/..%2f..%2fpackage.json', '/ui/assets/..%2findex.html', '/ui/assets/%2e%2e%2f%2e%2e%2fvite.config.ts', '/ui/index.html', '/ui/assets/.hidden.js', '/ui/assets/x.json']) {
      const response = await rawRequest(test.issuer, { method: 'GET', path });
      expect(response.status, path).toBe(404);
      expect(response.text).not.toContain('"name": "latchkey"');
    }
  });

  it('/api/status says where the broker runs: data dir, port and local socket', async () => {
    const status = await test.admin('GET', '/status');
    expect(status.body).toMatchObject({ issuer: test.issuer, data_dir: test.dataDir, port: Number(new URL(test.issuer).port), socket: test.socket });
  });

  it('/api/audit/events announces each new audit row as it is committed', async () => {
    const controller = new AbortController();
    const response = await fetch(`${test.issuer}/api/audit/events`, { headers: { authorization: `Bearer ${test.broker.adminToken}` }, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    await test.admin('POST', '/applications', { name: 'Feed watcher', identity_type: 'service' });
    let text = '';
    const deadline = Date.now() + 5_000;
    while (!text.includes('admin.application_created') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    const event = text.split('\n\n').find((block) => block.includes('event: audit'))!;
    const row = JSON.parse(event.split('\n').find((line) => line.startsWith('data: '))!.slice(6));
    expect(row).toMatchObject({ event: 'admin.application_created', decision: 'info' });
    expect(typeof row.seq).toBe('number');
  });

  it('without a build, /ui/ says how to build the UI', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
    const broker = await Broker.open({ dataDir, passphrase: TEST_PASSPHRASE, scrypt: TEST_SCRYPT, log: silentLogger, uiDir: mkdtempSync(join(tmpdir(), 'latchkey-no-ui-')) });
    try {
      const issuer = await broker.listen(0);
      const response = await fetch(`${issuer}/ui/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-security-policy')).toBe(UI_CSP);
      expect(await response.text()).toContain('npm run build');
    } finally {
      await broker.close();
      removeDataDir(dataDir);
    }
  });
});
