// Pure (no electron): unit-tested under Node. The native consent window's queue (issue 6): one prompt at a
// time, oldest first; Deny is the default and Allow is refused for a moment after a prompt appears (so a
// click or a keypress meant for another window cannot approve it); an unanswered prompt is denied; a
// flood is not shown at all.
import type { ConsentPrompt, PromptAnswer, PromptAnswerResult } from '../../shared/ipc.js';
import type { Clock } from '../core/clock.js';
import type { ApprovalPrompt } from '../core/consent/prompter.js';
import type { Logger } from '../core/logger.js';
import { TokenBucket } from '../core/transport/token-bucket.js';

export interface PromptQueueOptions {
  /** Allow is refused this long after a prompt is shown. */
  allowDelayMs: number;
  /** An unanswered prompt is denied after this long (or at the approval's own expiry, if sooner). */
  answerWithinMs: number;
  /** Prompts waiting behind the one shown; more are not queued. */
  maxWaiting: number;
  /** Prompts per application: `burst` at once, then `perMinute`. */
  perApplication: { burst: number; perMinute: number };
  /** Prompts from all applications together. */
  overall: { burst: number; perMinute: number };
}

export const DEFAULT_PROMPT_QUEUE_OPTIONS: PromptQueueOptions = {
  allowDelayMs: 1_500,
  answerWithinMs: 60_000,
  maxWaiting: 5,
  perApplication: { burst: 3, perMinute: 2 },
  overall: { burst: 6, perMinute: 6 },
};

/** Where a prompt is shown (the always-on-top window). */
export interface PromptSurface {
  show(prompt: ConsentPrompt): void;
  hide(): void;
}

/** Where the answer goes (the broker's approval queue). Both may throw (answered elsewhere, app disabled). */
export interface PromptAnswers {
  approve(id: string): void;
  deny(id: string): void;
  /** Whether the approval still waits for an answer (not answered in the admin UI meanwhile, not expired). */
  isPending(id: string): boolean;
}

export type OfferResult = 'shown' | 'queued' | 'rate_limited';

/**
 * A request not shown because of the limits stays pending in the broker's approval queue: the user can
 * still answer it in the app's Approvals page (the tray counts it), and unanswered it expires, which is a
 * denial. Denying it outright would let a flood from one agent deny another's legitimate request too;
 * showing it would let an agent bury the user in windows until one is allowed by mistake.
 */
export class PromptQueue {
  private readonly waiting: ApprovalPrompt[] = [];
  private shown: ConsentPrompt | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly overall: TokenBucket;

  constructor(
    private readonly surface: PromptSurface,
    private readonly answers: PromptAnswers,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: PromptQueueOptions = DEFAULT_PROMPT_QUEUE_OPTIONS,
  ) {
    this.overall = new TokenBucket(clock, options.overall.perMinute, options.overall.burst);
  }

  /** A new approval: shown now, queued behind the one shown, or (over a limit) left to the admin UI. */
  offer(prompt: ApprovalPrompt): OfferResult {
    if (this.waiting.length >= this.options.maxWaiting || !this.bucket(prompt.clientId).take().ok || !this.overall.take().ok) {
      this.log.warn(`approval ${prompt.id} from ${prompt.clientId} not prompted (too many requests); it waits in the app's Approvals page`);
      return 'rate_limited';
    }
    this.waiting.push(prompt);
    if (this.shown) return 'queued';
    this.next();
    return this.shown ? 'shown' : 'queued';
  }

  /** What the window shows now (the page asks when it loads). */
  current(): ConsentPrompt | null {
    return this.shown;
  }

  /** The user's answer from the window. Only for the prompt shown; Allow only after the delay. */
  answer(answer: PromptAnswer): PromptAnswerResult {
    const shown = this.shown;
    if (!shown || shown.id !== answer.id) return { accepted: false, reason: 'this request is no longer shown' };
    if (answer.decision === 'allow' && this.clock.now() < shown.allow_at) return { accepted: false, reason: 'too early: read the request first' };
    const taken = this.decide(shown.id, answer.decision);
    this.next();
    return taken ? { accepted: true } : { accepted: false, reason: 'the request was already answered or has expired' };
  }

  /** The window was closed without an answer: a denial, as the default is. */
  dismissed(id: string): void {
    if (this.shown?.id !== id) return;
    this.decide(id, 'deny');
    this.next();
  }

  /** Drops what was answered elsewhere (the admin UI, the CLI) or expired meanwhile; the shell calls it now and then. */
  refresh(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) if (!this.stillPending(this.waiting[i]!.id)) this.waiting.splice(i, 1);
    if (this.shown && !this.stillPending(this.shown.id)) this.next();
  }

  /** How many wait behind the one shown. */
  get queued(): number {
    return this.waiting.length;
  }

  close(): void {
    clearTimeout(this.timer);
    this.waiting.length = 0;
    this.shown = null;
  }

  private next(): void {
    clearTimeout(this.timer);
    this.shown = null;
    let prompt: ApprovalPrompt | undefined;
    while ((prompt = this.waiting.shift()) !== undefined) {
      if (prompt.expiresAt > this.clock.now() && this.stillPending(prompt.id)) break;
    }
    if (!prompt) {
      this.surface.hide();
      return;
    }
    const now = this.clock.now();
    const shown = toConsentPrompt(prompt, now + this.options.allowDelayMs, Math.min(now + this.options.answerWithinMs, prompt.expiresAt));
    this.shown = shown;
    this.timer = setTimeout(() => {
      if (this.shown?.id !== shown.id) return;
      this.log.info(`approval ${shown.id} unanswered: denied`);
      this.decide(shown.id, 'deny');
      this.next();
    }, Math.max(0, shown.deny_at - now));
    this.timer.unref?.();
    this.surface.show(shown);
  }

  private decide(id: string, decision: 'allow' | 'deny'): boolean {
    try {
      if (decision === 'allow') this.answers.approve(id);
      else this.answers.deny(id);
      return true;
    } catch (error) {
      this.log.warn(`approval ${id}: ${(error as Error).message}`);
      return false;
    }
  }

  private stillPending(id: string): boolean {
    try {
      return this.answers.isPending(id);
    } catch {
      return false;
    }
  }

  private bucket(clientId: string): TokenBucket {
    let bucket = this.buckets.get(clientId);
    if (!bucket) {
      bucket = new TokenBucket(this.clock, this.options.perApplication.perMinute, this.options.perApplication.burst);
      this.buckets.set(clientId, bucket);
    }
    return bucket;
  }
}

/** The IPC shape of a prompt (shared/ipc.ts): what the window shows, and when it may be allowed and is denied. */
export function toConsentPrompt(prompt: ApprovalPrompt, allowAt: number, denyAt: number): ConsentPrompt {
  return {
    id: prompt.id,
    application: prompt.applicationName,
    client_id: prompt.clientId,
    verified: prompt.verified,
    resources: prompt.resources,
    scopes: prompt.scopes,
    binding_message: prompt.bindingMessage,
    downstream: prompt.downstream.map((hop) => ({ depth: hop.depth, client_id: hop.clientId, application: hop.applicationName, resource: hop.resource, scopes: hop.scopes })),
    allow_at: allowAt,
    deny_at: denyAt,
  };
}
