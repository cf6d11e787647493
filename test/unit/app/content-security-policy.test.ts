// The pages the shell serves run no inline script, load nothing from elsewhere, and cannot be framed.
import { describe, expect, it } from 'vitest';
import { PROMPT_CSP, UI_CSP } from '../../../main/app/content-security-policy.js';

const directives = (csp: string) => new Map(csp.split('; ').map((directive) => { const [name, ...values] = directive.split(' '); return [name!, values]; }));

describe('content security policies', () => {
  for (const [name, csp] of [['UI', UI_CSP], ['consent window', PROMPT_CSP]] as const) {
    it(`${name}: nothing by default, script only from itself, no inline or eval, no frames, no plugins, no base`, () => {
      const policy = directives(csp);
      expect(policy.get('default-src')).toEqual(["'none'"]);
      expect(policy.get('script-src')).toEqual(["'self'"]);
      expect(policy.get('object-src')).toEqual(["'none'"]);
      expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
      expect(policy.get('base-uri')).toEqual(["'none'"]);
      expect(csp).not.toMatch(/unsafe-|\*|https?:|ws:/);
    });
  }

  it('the UI reaches only its own origin (the admin API is forwarded by main); the consent window reaches nothing', () => {
    expect(directives(UI_CSP).get('connect-src')).toEqual(["'self'"]);
    expect(directives(PROMPT_CSP).get('connect-src')).toEqual(["'none'"]);
  });
});
