// The consent window's page: plain DOM, no framework. Everything the agent or its registration chose
// (names, the binding message, resources) is set as text, never as HTML. Deny has the focus; Allow stays
// disabled until `allow_at` (main refuses an early Allow anyway); Escape denies.
import type { ConsentPrompt, DesktopPromptApi } from '../../../shared/ipc.js';

declare global {
  interface Window { latchkeyPrompt: DesktopPromptApi }
}

const api = window.latchkeyPrompt;
const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const allow = byId<HTMLButtonElement>('allow');
const deny = byId<HTMLButtonElement>('deny');
const status = byId('status');
let current: ConsentPrompt | null = null;
let ticker: ReturnType<typeof setInterval> | undefined;

function list(id: string, items: string[]): void {
  const element = byId(id);
  element.replaceChildren(...items.map((item) => {
    const li = document.createElement('li');
    li.textContent = item;
    return li;
  }));
}

function render(prompt: ConsentPrompt): void {
  current = prompt;
  byId('idle').hidden = true;
  byId('prompt').hidden = false;
  byId('application').textContent = prompt.application;
  const verified = byId('verified');
  verified.textContent = prompt.verified ? 'registered by you' : 'unverified: it registered itself, its name proves nothing';
  verified.className = `badge ${prompt.verified ? 'verified' : 'unverified'}`;
  list('resources', prompt.resources);
  list('scopes', prompt.scopes.length > 0 ? prompt.scopes : ['(no scopes)']);
  byId('binding-row').hidden = prompt.binding_message === null;
  byId('binding').textContent = prompt.binding_message ?? '';
  byId('chain-row').hidden = prompt.downstream.length === 0;
  list('chain', prompt.downstream.map((hop) => `${'→ '.repeat(hop.depth)}${hop.application} to ${hop.resource}${hop.scopes.length ? ` (${hop.scopes.join(', ')})` : ''}`));
  status.textContent = '';
  allow.disabled = true;
  deny.disabled = false;
  deny.focus();
  clearInterval(ticker);
  const tick = (): void => {
    const now = Date.now();
    if (now >= prompt.allow_at && current?.id === prompt.id) allow.disabled = false;
    const seconds = Math.max(0, Math.ceil((prompt.deny_at - now) / 1000));
    byId('countdown').textContent = `Denied automatically in ${seconds} s unless you allow it.`;
  };
  tick();
  ticker = setInterval(tick, 250);
}

async function answer(decision: 'allow' | 'deny'): Promise<void> {
  if (!current) return;
  const prompt = current;
  allow.disabled = true;
  deny.disabled = true;
  const result = await api.answer({ id: prompt.id, decision });
  if (!result.accepted) {
    status.textContent = result.reason ?? 'not taken';
    deny.disabled = false;
    if (decision === 'allow' && Date.now() >= prompt.allow_at) allow.disabled = false;
    return;
  }
  status.textContent = decision === 'allow' ? 'Allowed.' : 'Denied.';
}

allow.addEventListener('click', () => void answer('allow'));
deny.addEventListener('click', () => void answer('deny'));
document.addEventListener('keydown', (event: KeyboardEvent) => { if (event.key === 'Escape') void answer('deny'); });
api.onShow(render);
void api.ready().then((prompt) => { if (prompt) render(prompt); });
