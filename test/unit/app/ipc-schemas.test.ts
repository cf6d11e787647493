// The typed IPC contract: every channel is bound to one page, and every payload is checked by its schema
// in main before anything is done with it.
import { describe, expect, it } from 'vitest';
import { CHANNEL_HOSTS, IPC, consentPrompt, openExternalRequest, promptAnswer, shellInfo } from '../../../shared/ipc.js';

const prompt = {
  id: 'apr_abc', application: 'Night agent', client_id: 'app_1', verified: true, resources: ['https://notes.example.test/api'], scopes: ['notes:read'],
  binding_message: null, downstream: [{ depth: 1, client_id: 'app_2', application: 'Notes', resource: 'https://store.example.test/', scopes: [] }], allow_at: 1, deny_at: 2,
};

describe('IPC contract', () => {
  it('binds every channel to exactly one page', () => {
    expect(Object.keys(CHANNEL_HOSTS).sort()).toEqual(Object.values(IPC).sort());
    expect(new Set(Object.values(IPC)).size).toBe(Object.values(IPC).length);
  });

  it('accepts an answer of allow or deny for a well-formed id, and nothing else', () => {
    expect(promptAnswer.parse({ id: 'apr_abc', decision: 'allow' })).toEqual({ id: 'apr_abc', decision: 'allow' });
    for (const bad of [{ id: 'apr_abc', decision: 'maybe' }, { id: 'apr_abc' }, { id: '../x', decision: 'deny' }, { id: 'apr_abc', decision: 'allow', remember: 86400 },
      { id: 'a'.repeat(65), decision: 'deny' }, 'allow', null, { id: { toString: () => 'apr' }, decision: 'deny' }]) {
      expect(promptAnswer.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('a prompt carries what the window shows, and no extra field (nothing secret can ride along)', () => {
    expect(consentPrompt.parse(prompt)).toEqual(prompt);
    expect(consentPrompt.safeParse({ ...prompt, auth_req_id: 'secret' }).success).toBe(false);
    expect(consentPrompt.safeParse({ ...prompt, resources: [] }).success).toBe(false);
    expect(consentPrompt.safeParse({ ...prompt, binding_message: 'x'.repeat(101) }).success).toBe(false);
  });

  it('open-external takes one URL; shell info is exactly what it says', () => {
    expect(openExternalRequest.safeParse({ url: 'https://github.com/' }).success).toBe(true);
    expect(openExternalRequest.safeParse({ url: 'not a url' }).success).toBe(false);
    expect(openExternalRequest.safeParse({ url: 'https://github.com/', target: '_blank' }).success).toBe(false);
    expect(shellInfo.safeParse({ shell: 'electron', version: '45.5.0', platform: 'linux' }).success).toBe(true);
    expect(shellInfo.safeParse({ shell: 'electron', version: '45.5.0', platform: 'linux', token: 'x' }).success).toBe(false);
  });
});
