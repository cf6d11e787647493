// The consent window's queue, under Node with fake timers: one prompt at a time, Deny by default (an
// unanswered prompt is denied after 60 s), Allow refused during the first 1.5 s, a flood not prompted.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConsentPrompt } from '../../../shared/ipc.js';
import type { ApprovalPrompt } from '../../../main/core/consent/prompter.js';
import { silentLogger } from '../../../main/core/logger.js';
import { DEFAULT_PROMPT_QUEUE_OPTIONS, PromptQueue, type PromptAnswers, type PromptSurface } from '../../../main/app/prompt-queue.js';

let n = 0;
function approval(overrides: Partial<ApprovalPrompt> = {}): ApprovalPrompt {
  n += 1;
  return {
    id: `apr_${n}`, clientId: 'app_agent', applicationName: 'Night agent', verified: true, userId: 'usr_1',
    resources: ['https://notes.example.test/api'], scopes: ['notes:read'], bindingMessage: 'ref 42', downstream: [],
    createdAt: Date.now(), expiresAt: Date.now() + 300_000, ...overrides,
  };
}

/** A surface that records what it shows, and a broker queue that records answers. */
class Recorder implements PromptSurface, PromptAnswers {
  shown: ConsentPrompt[] = [];
  hidden = 0;
  approved: string[] = [];
  denied: string[] = [];
  answeredElsewhere = new Set<string>();
  show(prompt: ConsentPrompt): void { this.shown.push(prompt); }
  hide(): void { this.hidden += 1; }
  approve(id: string): void { this.check(id); this.approved.push(id); }
  deny(id: string): void { this.check(id); this.denied.push(id); }
  isPending(id: string): boolean { return !this.answeredElsewhere.has(id) && !this.approved.includes(id) && !this.denied.includes(id); }
  private check(id: string): void { if (!this.isPending(id)) throw new Error('the approval was already answered'); }
}

describe('the consent prompt queue', () => {
  let surface: Recorder;
  let queue: PromptQueue;
  const clock = { now: () => Date.now() };

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    surface = new Recorder();
    queue = new PromptQueue(surface, surface, clock, silentLogger);
  });
  afterEach(() => {
    queue.close();
    vi.useRealTimers();
  });

  it('shows one prompt at a time, oldest first; the next appears when the first is answered', () => {
    const first = approval();
    const second = approval();
    expect(queue.offer(first)).toBe('shown');
    expect(queue.offer(second)).toBe('queued');
    expect(surface.shown.map((prompt) => prompt.id)).toEqual([first.id]);
    expect(queue.answer({ id: first.id, decision: 'deny' })).toEqual({ accepted: true });
    expect(surface.shown.map((prompt) => prompt.id)).toEqual([first.id, second.id]);
    expect(queue.answer({ id: second.id, decision: 'deny' })).toEqual({ accepted: true });
    expect(surface.hidden).toBe(1);
    expect(queue.current()).toBeNull();
  });

  it('shows what the user must see: the application, whether it is verified, the resource, scopes, binding message and chain', () => {
    const prompt = approval({ verified: false, downstream: [{ depth: 1, clientId: 'app_notes', applicationName: 'Notes server', resource: 'https://store.example.test/', scopes: ['blob:read'] }] });
    queue.offer(prompt);
    expect(surface.shown[0]).toEqual({
      id: prompt.id, application: 'Night agent', client_id: 'app_agent', verified: false, resources: ['https://notes.example.test/api'], scopes: ['notes:read'],
      binding_message: 'ref 42', downstream: [{ depth: 1, client_id: 'app_notes', application: 'Notes server', resource: 'https://store.example.test/', scopes: ['blob:read'] }],
      allow_at: Date.now() + 1_500, deny_at: Date.now() + 60_000,
    });
  });

  it('refuses Allow during the first 1.5 s (a click meant for another window approves nothing), then takes it', () => {
    const prompt = approval();
    queue.offer(prompt);
    vi.advanceTimersByTime(1_499);
    expect(queue.answer({ id: prompt.id, decision: 'allow' })).toEqual({ accepted: false, reason: expect.stringMatching(/too early/) });
    expect(surface.approved).toEqual([]);
    expect(queue.current()?.id).toBe(prompt.id);
    vi.advanceTimersByTime(1);
    expect(queue.answer({ id: prompt.id, decision: 'allow' })).toEqual({ accepted: true });
    expect(surface.approved).toEqual([prompt.id]);
  });

  it('takes Deny at once', () => {
    const prompt = approval();
    queue.offer(prompt);
    expect(queue.answer({ id: prompt.id, decision: 'deny' })).toEqual({ accepted: true });
    expect(surface.denied).toEqual([prompt.id]);
  });

  it('denies an unanswered prompt after 60 s and shows the next', () => {
    const first = approval();
    const second = approval();
    queue.offer(first);
    queue.offer(second);
    vi.advanceTimersByTime(59_999);
    expect(surface.denied).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(surface.denied).toEqual([first.id]);
    expect(queue.current()?.id).toBe(second.id);
    // The second gets its own full minute.
    expect(queue.current()!.deny_at).toBe(Date.now() + 60_000);
  });

  it('denies at the approval\'s own expiry when that comes first', () => {
    const prompt = approval({ expiresAt: Date.now() + 10_000 });
    queue.offer(prompt);
    expect(queue.current()!.deny_at).toBe(Date.now() + 10_000);
    vi.advanceTimersByTime(10_000);
    expect(queue.current()).toBeNull();
  });

  it('a window closed without an answer is a denial', () => {
    const prompt = approval();
    queue.offer(prompt);
    queue.dismissed(prompt.id);
    expect(surface.denied).toEqual([prompt.id]);
  });

  it('an answer for a prompt not shown is refused and decides nothing', () => {
    const shown = approval();
    const waiting = approval();
    queue.offer(shown);
    queue.offer(waiting);
    vi.advanceTimersByTime(2_000);
    expect(queue.answer({ id: waiting.id, decision: 'allow' })).toEqual({ accepted: false, reason: expect.any(String) });
    expect(queue.answer({ id: 'apr_unknown', decision: 'allow' })).toMatchObject({ accepted: false });
    expect(surface.approved).toEqual([]);
    expect(queue.current()?.id).toBe(shown.id);
  });

  it('drops a prompt answered elsewhere (the admin UI) and moves on, without answering it again', () => {
    const first = approval();
    const second = approval();
    const third = approval();
    queue.offer(first);
    queue.offer(second);
    queue.offer(third);
    surface.answeredElsewhere.add(first.id).add(second.id);
    queue.refresh();
    expect(queue.current()?.id).toBe(third.id);
    expect([...surface.approved, ...surface.denied]).toEqual([]);
  });

  it('rate-limits a flood from one application without prompting: the excess stays pending for the Approvals page', () => {
    const results = Array.from({ length: 5 }, () => queue.offer(approval({ clientId: 'app_flood' })));
    expect(results).toEqual(['shown', 'queued', 'queued', 'rate_limited', 'rate_limited']);
    expect(surface.denied).toEqual([]);
    // Another application is still heard.
    expect(queue.offer(approval({ clientId: 'app_other' }))).toBe('queued');
    // The bucket refills: two a minute.
    vi.advanceTimersByTime(30_000);
    expect(queue.offer(approval({ clientId: 'app_flood' }))).not.toBe('rate_limited');
  });

  it('never queues more than a few behind the one shown', () => {
    const options = { ...DEFAULT_PROMPT_QUEUE_OPTIONS, perApplication: { burst: 100, perMinute: 100 }, overall: { burst: 100, perMinute: 100 } };
    queue = new PromptQueue(surface, surface, clock, silentLogger, options);
    const results = Array.from({ length: 8 }, () => queue.offer(approval()));
    expect(results.filter((result) => result === 'rate_limited')).toHaveLength(8 - 1 - options.maxWaiting);
    expect(queue.queued).toBe(options.maxWaiting);
  });
});
