// The desktop app's consent prompts against a real broker, under Node: an agent asks through CIBA, the
// shell's Prompter (NativePrompter, with Electron's Notification faked) queues it for the consent window
// (a recording surface stands in for the window), and the user's answer from the window decides what the
// agent's poll gets. Short delays here; the defaults (1.5 s, 60 s) are tested in test/unit/app.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConsentPrompt } from '../../shared/ipc.js';
import { silentLogger } from '../../main/core/logger.js';
import { PromptQueue, DEFAULT_PROMPT_QUEUE_OPTIONS, type PromptSurface } from '../../main/app/prompt-queue.js';
import { postForm, removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { setupOwner } from '../support/browser.js';

const notifications: Array<{ title: string; body: string }> = [];
vi.mock('electron', () => ({
  Notification: class {
    static isSupported() { return true; }
    constructor(readonly options: { title: string; body: string }) {}
    on() { return this; }
    show() { notifications.push(this.options); }
  },
}));
const { NativePrompter } = await import('../../main/app/native-prompter.js');

const CIBA = 'urn:openid:params:grant-type:ciba';
const NOTES = 'https://notes.example.test/api';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('native consent prompts (the shell\'s Prompter on a real broker)', () => {
  let test: TestBroker;
  let agent: { client_id: string; client_secret: string };
  const shown: ConsentPrompt[] = [];
  let hidden = 0;
  const surface: PromptSurface = { show: (prompt) => shown.push(prompt), hide: () => { hidden += 1; } };
  let queue: PromptQueue;

  const ask = (message: string) => postForm(`${test.issuer}/oauth2/bc-authorize`, { login_hint: 'ada@example.com', resource: NOTES, scope: 'notes:read', binding_message: message },
    { basic: [agent.client_id, agent.client_secret] });
  const poll = (authReqId: string) => postForm(`${test.issuer}/oauth2/token`, { grant_type: CIBA, auth_req_id: authReqId }, { basic: [agent.client_id, agent.client_secret] });

  beforeAll(async () => {
    test = await startBroker();
    await setupOwner(test);
    await test.admin('POST', '/resources', { name: 'Notes', identifier: NOTES, scopes: ['notes:read'] });
    agent = (await test.admin('POST', '/applications', { name: 'Night agent', identity_type: 'agent', grant_types: ['ciba'], resources: [NOTES], scopes: ['notes:read'] })).body;
    const approvals = test.broker.approvals;
    queue = new PromptQueue(surface, {
      approve: (id) => { approvals.approve(id); },
      deny: (id) => { approvals.deny(id); },
      isPending: (id) => approvals.get(id)?.status === 'pending',
    }, test.broker.clock, silentLogger, { ...DEFAULT_PROMPT_QUEUE_OPTIONS, allowDelayMs: 300, answerWithinMs: 1_000, perApplication: { burst: 2, perMinute: 1 } });
    approvals.addPrompter(new NativePrompter(queue, () => {}, () => {}));
  });
  afterAll(async () => {
    queue.close();
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('an agent\'s request is shown, with a notification; Allow is refused at first, then the agent gets its token', async () => {
    const asked = await ask('index job 42');
    expect(asked.status).toBe(200);
    expect(shown.at(-1)).toMatchObject({ application: 'Night agent', client_id: agent.client_id, verified: true, resources: [NOTES], scopes: ['notes:read'], binding_message: 'index job 42', downstream: [] });
    expect(notifications.at(-1)).toEqual(expect.objectContaining({ body: expect.stringContaining('Night agent asks to act for you') }));
    // What crosses to the window names no secret.
    expect(JSON.stringify(shown)).not.toContain(asked.body.auth_req_id);
    const id = shown.at(-1)!.id;
    expect(queue.answer({ id, decision: 'allow' })).toMatchObject({ accepted: false });
    expect(test.broker.approvals.get(id)!.status).toBe('pending');
    await sleep(350);
    expect(queue.answer({ id, decision: 'allow' })).toEqual({ accepted: true });
    const granted = await poll(asked.body.auth_req_id);
    expect(granted.status, granted.text).toBe(200);
    expect(hidden).toBeGreaterThan(0);
  });

  it('unanswered, it is denied, and the agent\'s poll says access_denied', async () => {
    const asked = await ask('left alone');
    expect(shown.at(-1)!.binding_message).toBe('left alone');
    await sleep(1_200);
    expect((await poll(asked.body.auth_req_id)).body.error).toBe('access_denied');
  });

  it('a flood is not prompted: the excess waits, pending, for the Approvals page', async () => {
    const before = shown.length;
    const asked = await ask('one too many');
    expect(asked.status).toBe(200);
    expect(shown.length).toBe(before);
    const pending = (await test.admin('GET', '/approvals')).body as Array<{ binding_message: string }>;
    expect(pending.map((approval) => approval.binding_message)).toContain('one too many');
  });
});
