// The test plays the browser with fetch: it signs in with a one-time login link, keeps the session
// cookie, loads the consent page, parses its form and posts it as a person would.
import { createHash, randomBytes } from 'node:crypto';
import type { TestBroker } from './broker.js';

export interface Page {
  status: number;
  headers: Headers;
  /** The Location of a redirect (303), resolved against the issuer. */
  location: string | null;
  html: string;
}

export interface ConsentForm {
  action: string;
  fields: Record<string, string>;
  decisions: string[];
  hasRemember: boolean;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** RFC 7636 §4.1–4.2: a random verifier and its S256 challenge. */
export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A browser for one broker: one cookie jar, the broker's own Origin on the posts it sends. */
export class Browser {
  cookie: string | null = null;

  constructor(readonly test: TestBroker) {}

  /** Asks the admin API for a login link (as `latchkey login-url` does) and opens it. */
  async signIn(next?: string): Promise<Page> {
    const link = await this.test.admin('POST', '/login-links', next === undefined ? {} : { next });
    if (link.status !== 201) throw new Error(`login link refused: ${JSON.stringify(link.body)}`);
    return this.open(link.body.url);
  }

  /** GET a URL of the broker without following redirects; keeps a session cookie it is given. */
  async open(url: string): Promise<Page> {
    const response = await fetch(url, { redirect: 'manual', headers: this.cookie ? { cookie: this.cookie } : {} });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    return page(response, this.test.issuer);
  }

  /** GET /oauth2/authorize with these parameters (arrays repeat a parameter). */
  async authorize(params: Record<string, string | string[] | undefined>): Promise<Page> {
    return this.open(`${this.test.issuer}/oauth2/authorize?${query(params)}`);
  }

  /** POST the consent form: the fields it carries, the button pressed, and whatever a test adds or removes. */
  async decide(form: ConsentForm, decision: string, options: { remember?: boolean; extra?: Record<string, string>; omit?: string[]; origin?: string | null; cookie?: string | null } = {}): Promise<Page> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(form.fields)) if (!options.omit?.includes(name)) body.append(name, value);
    if (options.remember) body.append('remember', 'yes');
    body.append('decision', decision);
    for (const [name, value] of Object.entries(options.extra ?? {})) body.append(name, value);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const origin = options.origin === undefined ? this.test.issuer : options.origin;
    if (origin !== null) headers.origin = origin;
    const cookie = options.cookie === undefined ? this.cookie : options.cookie;
    if (cookie) headers.cookie = cookie;
    const response = await fetch(new URL(form.action, this.test.issuer), { method: 'POST', redirect: 'manual', headers, body: body.toString() });
    return page(response, this.test.issuer);
  }

  /** The whole front channel: authorize, consent (allow), and the code from the redirect. */
  async authorizeAndAllow(params: Record<string, string | string[] | undefined>, options: { remember?: boolean } = {}): Promise<{ code: string; location: URL }> {
    let result = await this.authorize(params);
    if (result.status === 200) result = await this.decide(consentForm(result.html), 'allow', options);
    if (result.status !== 303 || !result.location) throw new Error(`expected a redirect, got ${result.status}: ${result.html.slice(0, 500)}`);
    const location = new URL(result.location);
    const code = location.searchParams.get('code');
    if (!code) throw new Error(`no code in ${result.location}`);
    return { code, location };
  }
}

async function page(response: Response, issuer: string): Promise<Page> {
  const location = response.headers.get('location');
  return { status: response.status, headers: response.headers, location: location ? new URL(location, issuer).toString() : null, html: await response.text() };
}

export function query(params: Record<string, string | string[] | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(name, v);
  }
  return search.toString();
}

const unescape = (value: string): string => value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&');

/** The consent form as a browser sees it: hidden fields, the remember checkbox, the decision buttons. */
export function consentForm(html: string): ConsentForm {
  const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
  if (!form) throw new Error(`no consent form in: ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[input[1]!] = unescape(input[2]!);
  const decisions = [...form[2]!.matchAll(/<button type="submit" name="decision" value="([^"]+)">/g)].map((match) => match[1]!);
  return { action: unescape(form[1]!), fields, decisions, hasRemember: /name="remember"/.test(form[2]!) };
}

/** The owner, through the admin API (as `latchkey setup` does). */
export async function setupOwner(test: TestBroker, name = 'Ada Lovelace', email = 'ada@example.com'): Promise<string> {
  const result = await test.admin('POST', '/setup', { name, email });
  if (result.status >= 300) throw new Error(`setup failed: ${JSON.stringify(result.body)}`);
  return result.body.id;
}

export interface DelegatedApp {
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
}

let counter = 0;

/** A resource with scopes (made when missing), through the admin API. */
export async function ensureResource(test: TestBroker, identifier: string, scopes: string[], name = `API ${++counter}`): Promise<void> {
  const existing = await test.admin('GET', '/resources');
  if (existing.body.some((r: { identifier: string }) => r.identifier === identifier)) return;
  const created = await test.admin('POST', '/resources', { name, identifier, scopes });
  if (created.status !== 201) throw new Error(`resource create failed: ${JSON.stringify(created.body)}`);
}

/** An application allowed authorization_code (and refresh_token unless told otherwise). */
export async function registerDelegatedApp(test: TestBroker, options: {
  name?: string;
  authMethod?: string;
  resources?: string[];
  scopes?: string[];
  redirectUris?: string[];
  grantTypes?: string[];
  idTokenAlg?: 'RS256' | 'ES256';
} = {}): Promise<DelegatedApp> {
  const redirectUris = options.redirectUris ?? [`http://127.0.0.1:${40_000 + ++counter}/callback`];
  const created = await test.admin('POST', '/applications', {
    name: options.name ?? `Agent ${++counter}`,
    identity_type: 'agent',
    auth_method: options.authMethod ?? 'none',
    grant_types: options.grantTypes ?? ['authorization_code', 'refresh_token'],
    resources: options.resources ?? [],
    ...(options.scopes ? { scopes: options.scopes } : {}),
    redirect_uris: redirectUris,
    ...(options.idTokenAlg ? { id_token_signed_response_alg: options.idTokenAlg } : {}),
  });
  if (created.status !== 201) throw new Error(`application create failed: ${JSON.stringify(created.body)}`);
  return { clientId: created.body.client_id, ...(created.body.client_secret ? { clientSecret: created.body.client_secret } : {}), redirectUri: redirectUris[0]! };
}

/** A clock the test moves forward (codes, links and refresh tokens expire without sleeping). */
export class TestClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
