import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import type { ApplicationView, ApiKeyView, ApprovalView, ConsentView, OwnerView, ProviderView, ResourceView, VaultStatus } from '../../shared/admin-api.js';
import type { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';
import { changeOwnerPassphrase, notSetNote, offerOwnerPassphrase } from './owner-passphrase.js';
import { readSecretFromStdin, readSecretInput } from './prompt.js';

/** One admin command: its flags (node:util parseArgs form) and what it does with them. */
export interface AdminCommand {
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  positionals?: number;
  run(client: () => AdminClient, values: Record<string, unknown>, positionals: string[]): Promise<unknown>;
  /** Plain-text output when --json is not given. */
  human?(result: unknown): string;
  /** The flag each admin-API field comes from, so the broker's complaints name what the user typed. */
  fields?: Readonly<Record<string, string>>;
}

const json = { type: 'boolean' } as const;
const str = { type: 'string' } as const;
const many = { type: 'string', multiple: true } as const;

const required = (values: Record<string, unknown>, name: string): string => {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new CliError(`--${name} is required`, 2);
  return value;
};
const list = (values: Record<string, unknown>, name: string): string[] | undefined => values[name] as string[] | undefined;
const integer = (values: Record<string, unknown>, name: string): number | undefined => {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new CliError(`--${name} must be a whole number`, 2);
  return Number(value);
};
const positional = (positionals: string[], what: string): string => {
  const value = positionals[0];
  if (!value) throw new CliError(`${what} is required`, 2);
  return value;
};

/** The audit export names who did what: owner-only, like the data dir it comes from. */
function writePrivateFile(file: string, text: string): void {
  try {
    writeFileSync(file, text, { mode: 0o600 });
    chmodSync(file, 0o600);
  } catch (error) {
    throw new CliError(`cannot write --out file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

interface PolicyView { id: string; text: string; description?: string | null }

function readPolicyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`cannot read --file ${file}`);
  }
}

function readJwks(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`cannot read --jwks file ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`--jwks file ${file} is not JSON`);
  }
}

/** The audit log's filters, as `audit list` and `audit export` take them. */
const AUDIT_FILTER_FLAGS = { app: str, user: str, resource: str, event: str, decision: str, since: str, until: str } as const;
const AUDIT_FILTER_FIELDS = { client_id: 'app', subject: 'user', resource: 'resource', event: 'event', decision: 'decision', since: 'since', until: 'until' } as const;

function auditFilterQuery(values: Record<string, unknown>): URLSearchParams {
  const query = new URLSearchParams();
  if (values.app) query.set('client_id', values.app as string);
  if (values.user) query.set('subject', values.user as string);
  if (values.resource) query.set('resource', values.resource as string);
  for (const bound of ['since', 'until'] as const) {
    if (values[bound] === undefined) continue;
    const at = Date.parse(values[bound] as string);
    if (Number.isNaN(at)) throw new CliError(`--${bound} must be a date and time (ISO 8601)`, 2);
    query.set(bound, String(at));
  }
  if (values.event) query.set('event', values.event as string);
  if (values.decision) query.set('decision', values.decision as string);
  return query;
}

export const ADMIN_COMMANDS: Record<string, AdminCommand> = {
  setup: {
    usage: 'latchkey setup --name NAME --email EMAIL [--json]   the owner; on a terminal, also the owner passphrase (typed twice)',
    options: { name: str, email: str, json },
    run: async (client, values) => {
      const admin = client();
      const owner = await admin.request('POST', '/setup', { name: required(values, 'name'), email: required(values, 'email') });
      await offerOwnerPassphrase(admin);
      return owner;
    },
    fields: { name: 'name', email: 'email' },
    human: (result) => { const r = result as { name: string; email: string; created: boolean }; return `${r.created ? 'Owner created' : 'Owner updated'}: ${r.name} <${r.email}>`; },
  },
  'owner passphrase': {
    usage: 'latchkey owner passphrase [--json]   set the owner passphrase (typed twice), or change it (the current one first); typed on the terminal only',
    options: { json },
    run: (client) => changeOwnerPassphrase(client()),
    human: (result) => `Owner passphrase ${(result as { changed: boolean }).changed ? 'changed' : 'set: from now on, giving agents more power needs it, typed by you'}.`,
  },
  'owner status': {
    usage: 'latchkey owner status [--json]   whether the owner passphrase is set; wrong passphrases since the last right one; lockout',
    options: { json },
    run: async (client) => {
      const admin = client();
      return { ...await admin.request<OwnerView>('GET', '/owner'), ui: admin.uiUrl };
    },
    human: (result) => {
      const r = result as OwnerView & { ui: string };
      if (!r.passphrase_set) return `Owner passphrase: not set.\n${notSetNote(r.ui)}`;
      return ['Owner passphrase: set.',
        `Wrong passphrases since the last right one: ${r.failed_attempts}${r.last_failed_at ? ` (the last at ${r.last_failed_at})` : ''}.`,
        ...(r.locked_until ? [`Locked until ${r.locked_until} (too many wrong passphrases).`] : [])].join('\n');
    },
  },
  'resource create': {
    usage: 'latchkey resource create --name NAME --identifier URI [--type token|vaulted|brokered] [--secret-stdin] [--provider PROVIDER_ID] [--scope S]... [--lifetime SECONDS] [--served-by CLIENT_ID] [--json]   a vaulted resource reads its secret from stdin; a brokered one names its provider, and its --scope are the upstream scopes',
    options: { name: str, identifier: str, scope: many, lifetime: str, 'served-by': str, type: str, 'secret-stdin': { type: 'boolean' }, provider: str, json },
    run: async (client, values) => {
      const vaulted = values.type === 'vaulted';
      const brokered = values.type === 'brokered';
      if (brokered !== (values.provider !== undefined)) throw new CliError(brokered ? 'a brokered resource needs --provider PROVIDER_ID' : '--provider is for --type brokered', 2);
      if (vaulted && values['secret-stdin'] !== true) throw new CliError('a vaulted resource needs --secret-stdin (the secret is read from stdin, never from the command line)', 2);
      if (!vaulted && values['secret-stdin'] === true) throw new CliError('--secret-stdin is for --type vaulted', 2);
      const body = {
        name: required(values, 'name'),
        identifier: required(values, 'identifier'),
        // A brokered resource's scopes are the provider's (upstream scopes); Latchkey adds none of its own.
        ...(brokered ? { provider_id: values.provider, upstream_scopes: list(values, 'scope') ?? [] } : { scopes: list(values, 'scope') ?? [] }),
        ...(values.type ? { credential_type: values.type } : {}),
        ...(values.lifetime ? { token_lifetime: integer(values, 'lifetime') } : {}),
        ...(values['served-by'] ? { served_by: values['served-by'] } : {}),
      };
      const admin = client();
      return admin.request('POST', '/resources', vaulted ? { ...body, secret: await readSecretFromStdin('Secret: ') } : body);
    },
    human: (result) => `Resource created: ${(result as ResourceView).identifier}`,
    fields: { name: 'name', identifier: 'identifier', scopes: 'scope', credential_type: 'type', token_lifetime: 'lifetime', served_by: 'served-by', secret: 'secret-stdin', provider_id: 'provider', upstream_scopes: 'scope' },
  },
  'resource secret set': {
    usage: 'latchkey resource secret set --identifier URI --secret-stdin [--json]   replace a vaulted resource\'s secret (read from stdin)',
    options: { identifier: str, 'secret-stdin': { type: 'boolean' }, json },
    run: async (client, values) => {
      const identifier = required(values, 'identifier');
      if (values['secret-stdin'] !== true) throw new CliError('--secret-stdin is required (the secret is read from stdin, never from the command line)', 2);
      const admin = client();
      return admin.request('POST', '/resources/secret', { identifier, secret: await readSecretFromStdin('New secret: ') });
    },
    human: (result) => { const r = result as ResourceView; return `Secret replaced: ${r.identifier} (set ${r.secret_set_at})`; },
    fields: { identifier: 'identifier', secret: 'secret-stdin' },
  },
  'resource list': {
    usage: 'latchkey resource list [--json]',
    options: { json },
    run: (client) => client().request('GET', '/resources'),
    human: (result) => (result as ResourceView[]).map((r) => `${r.identifier}\t${r.name}\t${(r.credential_type === 'brokered' ? r.upstream_scopes : r.scopes).join(' ')}${r.credential_type === 'token' ? '' : `\t${r.credential_type}${r.has_secret ? ' (secret set)' : ''}${r.provider_id ? ` (${r.provider_id})` : ''}`}`).join('\n') || 'No resources yet.',
  },
  'provider create': {
    usage: 'latchkey provider create --name NAME --issuer URL --client-id ID [--client-secret-stdin] [--scope S]... [--json]   an upstream OAuth / OIDC provider (discovery from its issuer); the client secret is read from stdin',
    options: { name: str, issuer: str, 'client-id': str, 'client-secret-stdin': { type: 'boolean' }, scope: many, json },
    run: async (client, values) => {
      const body = {
        name: required(values, 'name'),
        issuer: required(values, 'issuer'),
        client_id: required(values, 'client-id'),
        scopes: list(values, 'scope') ?? [],
      };
      const admin = client();
      return admin.request('POST', '/providers', values['client-secret-stdin'] === true ? { ...body, client_secret: await readSecretFromStdin('Client secret: ') } : body);
    },
    human: (result) => { const p = result as ProviderView; return `Provider created: ${p.id} (${p.name})\n  Register Latchkey's redirect URI at the provider: Latchkey's issuer followed by /oauth2/providers/callback\n  Then connect your account: latchkey provider connect ${p.id}`; },
    fields: { name: 'name', issuer: 'issuer', client_id: 'client-id', client_secret: 'client-secret-stdin', scopes: 'scope' },
  },
  'provider list': {
    usage: 'latchkey provider list [--json]   upstream providers and whether your account there is connected',
    options: { json },
    run: (client) => client().request('GET', '/providers'),
    human: (result) => (result as ProviderView[]).map((p) => `${p.id}\t${p.name}\t${p.issuer ?? '-'}\t${p.status}${p.attention ? ` (${p.attention})` : ''}`).join('\n') || 'No providers yet.',
  },
  'provider connect': {
    usage: 'latchkey provider connect PROVIDER_ID [--json]   connect your account: prints the URL to open in your browser (the last line)',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('POST', `/providers/${encodeURIComponent(positional(positionals, 'PROVIDER_ID'))}/connect`, {}),
    // The URL is the last line of output, so `latchkey provider connect ID | tail -n 1` is the URL.
    human: (result) => `Open this URL in your browser to connect your account (it expires in 10 minutes):\n${(result as { authorization_url: string }).authorization_url}`,
  },
  'provider disconnect': {
    usage: 'latchkey provider disconnect PROVIDER_ID [--json]   revoke the upstream token (where the provider offers it) and forget it',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('POST', `/providers/${encodeURIComponent(positional(positionals, 'PROVIDER_ID'))}/disconnect`, {}),
    human: (result) => `Disconnected: ${(result as ProviderView).id} (${(result as ProviderView).name})`,
  },
  'provider delete': {
    usage: 'latchkey provider delete PROVIDER_ID [--json]   refused while a resource names it',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('DELETE', `/providers/${encodeURIComponent(positional(positionals, 'PROVIDER_ID'))}`),
    human: (result) => `Provider deleted: ${(result as { id: string }).id}`,
  },
  'app create': {
    usage: 'latchkey app create --name NAME [--kind agent|service|application|mcp_server] [--sub-type T] [--auth client_secret_basic|client_secret_post|private_key_jwt|none] [--jwks FILE] [--grant TYPE]... [--resource URI]... [--scope S]... [--redirect-uri URI]... [--consent explicit|implicit] [--max-delegation-depth N] [--id-token-alg RS256|ES256] [--json]',
    options: { name: str, kind: str, 'sub-type': str, auth: str, jwks: str, grant: many, resource: many, scope: many, 'redirect-uri': many, consent: str, 'max-delegation-depth': str, 'id-token-alg': str, json },
    run: (client, values) => client().request('POST', '/applications', {
      name: required(values, 'name'),
      ...(values.kind ? { identity_type: values.kind } : {}),
      ...(values['sub-type'] ? { sub_type: values['sub-type'] } : {}),
      ...(values.auth ? { auth_method: values.auth } : {}),
      ...(values.jwks ? { jwks: readJwks(values.jwks as string) } : {}),
      ...(list(values, 'grant') ? { grant_types: list(values, 'grant') } : {}),
      resources: list(values, 'resource') ?? [],
      ...(list(values, 'scope') ? { scopes: list(values, 'scope') } : {}),
      ...(list(values, 'redirect-uri') ? { redirect_uris: list(values, 'redirect-uri') } : {}),
      ...(values.consent ? { consent_mode: values.consent } : {}),
      ...(values['max-delegation-depth'] ? { max_delegation_depth: integer(values, 'max-delegation-depth') } : {}),
      ...(values['id-token-alg'] ? { id_token_signed_response_alg: values['id-token-alg'] } : {}),
    }),
    human: (result) => {
      const app = result as ApplicationView & { client_secret?: string };
      return [`Application created: ${app.name}`, `  client_id:     ${app.client_id}`,
        ...(app.client_secret ? [`  client_secret: ${app.client_secret}`, '  (the secret is shown once; store it now)'] : [])].join('\n');
    },
    fields: { name: 'name', identity_type: 'kind', sub_type: 'sub-type', auth_method: 'auth', jwks: 'jwks', grant_types: 'grant',
      resources: 'resource', scopes: 'scope', redirect_uris: 'redirect-uri', consent_mode: 'consent', max_delegation_depth: 'max-delegation-depth',
      id_token_signed_response_alg: 'id-token-alg' },
  },
  'app list': {
    usage: 'latchkey app list [--json]',
    options: { json },
    run: (client) => client().request('GET', '/applications'),
    // A dynamically registered client chose its own name: marked so wherever it is shown (issue 3 item 7).
    human: (result) => (result as ApplicationView[]).map((a) => `${a.client_id}\t${a.name}\t${a.identity_type}\t${a.enabled ? 'enabled' : 'disabled'}${a.registration === 'dynamic' ? '\tunverified (registered itself)' : ''}`).join('\n') || 'No applications yet.',
  },
  'app show': {
    usage: 'latchkey app show CLIENT_ID [--json]',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('GET', `/applications/${encodeURIComponent(positional(positionals, 'CLIENT_ID'))}`),
    human: (result) => JSON.stringify(result, null, 2),
  },
  'app update': {
    usage: 'latchkey app update CLIENT_ID [--resource URI]... [--remove-resource URI]... [--grant TYPE]... [--remove-grant TYPE]... [--scope S]... [--any-scope] [--consent explicit|implicit] [--allow-impersonation | --deny-impersonation] [--json]   '
      + 'adds and removes resources and grants, sets its scopes; removing a resource revokes its live tokens there; audited',
    options: { resource: many, 'remove-resource': many, grant: many, 'remove-grant': many, scope: many, 'any-scope': { type: 'boolean' }, consent: str,
      'allow-impersonation': { type: 'boolean' }, 'deny-impersonation': { type: 'boolean' }, json },
    positionals: 1,
    run: (client, values, positionals) => {
      const clientId = positional(positionals, 'CLIENT_ID');
      if (values['allow-impersonation'] && values['deny-impersonation']) throw new CliError('give --allow-impersonation or --deny-impersonation, not both', 2);
      if (values['any-scope'] && list(values, 'scope')) throw new CliError('give --scope or --any-scope, not both', 2);
      return client().request('PATCH', `/applications/${encodeURIComponent(clientId)}`, {
        ...(list(values, 'resource') ? { add_resources: list(values, 'resource') } : {}),
        ...(list(values, 'remove-resource') ? { remove_resources: list(values, 'remove-resource') } : {}),
        ...(list(values, 'grant') ? { add_grant_types: list(values, 'grant') } : {}),
        ...(list(values, 'remove-grant') ? { remove_grant_types: list(values, 'remove-grant') } : {}),
        ...(list(values, 'scope') ? { scopes: list(values, 'scope') } : {}),
        ...(values['any-scope'] ? { scopes: null } : {}),
        ...(values.consent !== undefined ? { consent_mode: values.consent } : {}),
        ...(values['allow-impersonation'] ? { allow_impersonation: true } : {}),
        ...(values['deny-impersonation'] ? { allow_impersonation: false } : {}),
      });
    },
    human: (result) => {
      const r = result as ApplicationView & { changes: Record<string, unknown> };
      const changed = Object.keys(r.changes);
      return `Application updated: ${r.client_id}${changed.length ? ` (${changed.join(', ')})` : ' (nothing changed)'}`;
    },
    fields: { add_resources: 'resource', remove_resources: 'remove-resource', add_grant_types: 'grant', remove_grant_types: 'remove-grant', scopes: 'scope', consent_mode: 'consent', allow_impersonation: 'allow-impersonation' },
  },
  'app disable': {
    usage: 'latchkey app disable CLIENT_ID [--json]',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('POST', `/applications/${encodeURIComponent(positional(positionals, 'CLIENT_ID'))}/disable`),
    human: (result) => `Application disabled: ${(result as ApplicationView).client_id}`,
  },
  'app enable': {
    usage: 'latchkey app enable CLIENT_ID [--json]',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('POST', `/applications/${encodeURIComponent(positional(positionals, 'CLIENT_ID'))}/enable`),
    human: (result) => `Application enabled: ${(result as ApplicationView).client_id}`,
  },
  'app delete': {
    usage: 'latchkey app delete CLIENT_ID [--json]   withdraws its consents, revokes its tokens, removes it (the audit log keeps its history)',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('DELETE', `/applications/${encodeURIComponent(positional(positionals, 'CLIENT_ID'))}`),
    human: (result) => {
      const r = result as { client_id: string; name: string; consents_withdrawn: number; access_tokens_revoked: number };
      return `Application deleted: ${r.client_id} (${r.name}); ${r.consents_withdrawn} consent(s) withdrawn, ${r.access_tokens_revoked} access token(s) revoked`;
    },
  },
  'apikey create': {
    usage: 'latchkey apikey create --app CLIENT_ID [--json]',
    options: { app: str, json },
    run: (client, values) => client().request('POST', `/applications/${encodeURIComponent(required(values, 'app'))}/api-keys`),
    human: (result) => { const r = result as { id: string; api_key: string }; return `API key ${r.id}: ${r.api_key}\n  (shown once; store it now)`; },
  },
  'apikey list': {
    usage: 'latchkey apikey list [--app CLIENT_ID] [--json]',
    options: { app: str, json },
    run: (client, values) => client().request('GET', `/api-keys${values.app ? `?client_id=${encodeURIComponent(values.app as string)}` : ''}`),
    human: (result) => (result as ApiKeyView[]).map((k) => `${k.id}\t${k.client_id}\t${k.revoked_at ? 'revoked' : 'active'}`).join('\n') || 'No API keys.',
  },
  'apikey revoke': {
    usage: 'latchkey apikey revoke KEY_ID [--json]',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('POST', `/api-keys/${encodeURIComponent(positional(positionals, 'KEY_ID'))}/revoke`),
    human: (result) => `API key revoked: ${(result as { id: string }).id}`,
  },
  'approvals list': {
    usage: 'latchkey approvals list [--json]   agents waiting for your approval (CIBA)',
    options: { json },
    run: (client) => client().request('GET', '/approvals'),
    human: (result) => (result as ApprovalView[]).map((a) =>
      `${a.id}\t${a.application} (${a.client_id})\t${a.resources.join(' ') || '-'}\t${a.scopes.join(' ') || '-'}\t${a.binding_message === null ? '-' : JSON.stringify(a.binding_message)}\tuntil ${a.expires_at}`).join('\n') || 'No approvals waiting.',
  },
  'approvals approve': {
    usage: 'latchkey approvals approve APPROVAL_ID [--remember SECONDS] [--json]   let the agent have what it asked for (--remember: the same request is approved without asking for that long)',
    options: { remember: str, json },
    positionals: 1,
    run: (client, values, positionals) => {
      const remember = integer(values, 'remember');
      return client().request('POST', `/approvals/${encodeURIComponent(positional(positionals, 'APPROVAL_ID'))}/approve`, remember === undefined ? {} : { remember_seconds: remember });
    },
    fields: { remember_seconds: 'remember' },
    human: (result) => { const r = result as ApprovalView & { consent_id: string }; return `Approved: ${r.id} (${r.application}); consent ${r.consent_id}`; },
  },
  'approvals deny': {
    usage: 'latchkey approvals deny APPROVAL_ID [--json]',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('POST', `/approvals/${encodeURIComponent(positional(positionals, 'APPROVAL_ID'))}/deny`),
    human: (result) => `Denied: ${(result as ApprovalView).id} (${(result as ApprovalView).application})`,
  },
  'login-url': {
    usage: 'latchkey login-url [--next /oauth2/authorize?…] [--json]   one-time link to a UI session (single use, expires in minutes)',
    options: { next: str, json },
    run: (client, values) => client().request('POST', '/login-links', values.next === undefined ? {} : { next: values.next }),
    // The link is the last line of output, so `latchkey login-url | tail -n 1` is the link.
    human: (result) => {
      const r = result as { url: string; expires_at: string; first_run?: boolean };
      return `Open this link in your browser to ${r.first_run ? 'set Latchkey up (there is no owner yet)' : 'sign in to Latchkey'} (single use, until ${r.expires_at}):\n${r.url}`;
    },
    fields: { next: 'next' },
  },
  'policy list': {
    usage: 'latchkey policy list [--json]   the Cedar policies in force: the defaults shipped with Latchkey and the admin\'s',
    options: { json },
    run: (client) => client().request('GET', '/policies'),
    human: (result) => {
      const r = result as { version: number; defaults: PolicyView[]; policies: PolicyView[] };
      const show = (policy: PolicyView) => `${policy.id}${policy.description ? `\t${policy.description}` : ''}\n${policy.text.replace(/^/gm, '    ')}`;
      return [`Policy set version ${r.version}`, 'Defaults:', ...r.defaults.map(show), r.policies.length ? 'Admin policies:' : 'No admin policies.', ...r.policies.map(show)].join('\n');
    },
  },
  'policy add': {
    usage: 'latchkey policy add --file F [--description TEXT] [--json]   validated against the schema first (a problem names its line); audited',
    options: { file: str, description: str, json },
    run: (client, values) => client().request('POST', '/policies', {
      text: readPolicyFile(required(values, 'file')),
      ...(values.description !== undefined ? { description: values.description } : {}),
    }),
    human: (result) => `Policy added: ${(result as PolicyView).id}`,
    fields: { text: 'file', description: 'description' },
  },
  'policy remove': {
    usage: 'latchkey policy remove POLICY_ID [--json]',
    options: { json },
    positionals: 1,
    run: (client, _values, positionals) => client().request('DELETE', `/policies/${encodeURIComponent(positional(positionals, 'POLICY_ID'))}`),
    human: (result) => `Policy removed: ${(result as PolicyView).id}`,
  },
  'policy validate': {
    usage: 'latchkey policy validate --file F [--json]   parses and validates against the schema; saves nothing',
    options: { file: str, json },
    run: (client, values) => client().request('POST', '/policies/validate', { text: readPolicyFile(required(values, 'file')) }),
    human: (result) => `Valid: ${(result as { statements: number }).statements} polic${(result as { statements: number }).statements === 1 ? 'y' : 'ies'}`,
    fields: { text: 'file' },
  },
  'policy test': {
    usage: 'latchkey policy test --app CLIENT_ID --resource URI --action ACTION [--user USER] [--scope S]... [--depth N] [--transport tcp|socket] [--json]   what-if: would this issuance be allowed, and by which policies',
    options: { app: str, resource: str, action: str, user: str, scope: many, depth: str, transport: str, json },
    run: (client, values) => client().request('POST', '/policies/test', {
      app: required(values, 'app'),
      resource: required(values, 'resource'),
      action: required(values, 'action'),
      ...(values.user !== undefined ? { user: values.user } : {}),
      ...(list(values, 'scope') ? { scopes: list(values, 'scope') } : {}),
      ...(integer(values, 'depth') !== undefined ? { delegation_depth: integer(values, 'depth') } : {}),
      ...(values.transport !== undefined ? { transport: values.transport } : {}),
    }),
    human: (result) => { const r = result as { decision: string; policies: string[] }; return `${r.decision}${r.policies.length ? ` (${r.policies.join(', ')})` : ' (no policy applies)'}`; },
    fields: { app: 'app', resource: 'resource', action: 'action', user: 'user', scopes: 'scope', delegation_depth: 'depth', transport: 'transport' },
  },
  'consent list': {
    usage: 'latchkey consent list [--app CLIENT_ID] [--all] [--json]   what each application may do for you (--all: withdrawn ones too)',
    options: { app: str, all: { type: 'boolean' }, json },
    run: (client, values) => {
      const query = new URLSearchParams();
      if (values.app) query.set('client_id', values.app as string);
      if (values.all) query.set('include_revoked', 'true');
      return client().request('GET', `/consents${query.size ? `?${query}` : ''}`);
    },
    human: (result) => (result as ConsentView[]).map((c) => `${c.id}\t${c.client_id}\t${c.application ?? '-'}${c.registration === 'dynamic' ? ' (unverified)' : ''}\t${c.resources.join(' ') || '-'}\t${c.scopes.join(' ')}${c.background ? '\tbackground' : ''}${c.revoked_at ? '\twithdrawn' : ''}`).join('\n') || 'No consents.',
    fields: { client_id: 'app' },
  },
  'consent grant': {
    usage: 'latchkey consent grant --app CLIENT_ID --resource URI... --background [--scope S]... [--user USER_ID] [--json]   let an application act for you in the background (impersonation)',
    options: { app: str, resource: many, scope: many, background: { type: 'boolean' }, user: str, json },
    run: (client, values) => {
      // Interactive consent is given on the consent page, by the user; here only background access is granted.
      if (!values.background) throw new CliError('only background-access grants are made here: add --background (an application asks for interactive consent on the consent page)', 2);
      const resources = list(values, 'resource');
      if (!resources?.length) throw new CliError('--resource is required', 2);
      return client().request('POST', '/consents', {
        client_id: required(values, 'app'),
        resources,
        ...(list(values, 'scope') ? { scopes: list(values, 'scope') } : {}),
        ...(values.user !== undefined ? { user_id: values.user } : {}),
        background: true,
      });
    },
    human: (result) => { const c = result as ConsentView; return `Background access granted: ${c.id} (${c.application ?? c.client_id}) ${c.resources.join(' ')} ${c.scopes.join(' ')}`; },
    fields: { client_id: 'app', resources: 'resource', scopes: 'scope', user_id: 'user' },
  },
  'consent revoke': {
    usage: 'latchkey consent revoke CONSENT_ID | --app CLIENT_ID [--json]   withdraw consent; ends the application\'s refresh tokens',
    options: { app: str, json },
    positionals: 1,
    run: async (client, values, positionals) => {
      if (values.app !== undefined && positionals.length) throw new CliError('give a CONSENT_ID or --app, not both', 2);
      if (values.app !== undefined) return client().request('POST', `/applications/${encodeURIComponent(required(values, 'app'))}/consents/revoke`);
      return [await client().request('POST', `/consents/${encodeURIComponent(positional(positionals, 'CONSENT_ID (or --app CLIENT_ID)'))}/revoke`)];
    },
    human: (result) => (result as ConsentView[]).map((c) => `Consent withdrawn: ${c.id} (${c.application ?? c.client_id})`).join('\n') || 'No consent to withdraw.',
  },
  'keys rotate': {
    usage: 'latchkey keys rotate [--json]',
    options: { json },
    run: (client) => client().request('POST', '/keys/rotate'),
    human: (result) => { const r = result as { kid: string; retired: string | null }; return `New signing key ${r.kid}${r.retired ? `; ${r.retired} stays in JWKS until its tokens expire` : ''}`; },
  },
  'keys list': {
    usage: 'latchkey keys list [--json]',
    options: { json },
    run: (client) => client().request('GET', '/keys'),
    human: (result) => JSON.stringify(result, null, 2),
  },
  'audit list': {
    usage: 'latchkey audit list [--app CLIENT_ID] [--user USER_ID] [--resource URI] [--event EVENT] [--decision allow|deny|info] [--since ISO] [--until ISO] [--before SEQ] [--limit N] [--json]',
    options: { ...AUDIT_FILTER_FLAGS, before: str, limit: str, json },
    run: (client, values) => {
      const query = auditFilterQuery(values);
      if (values.before !== undefined) query.set('before', String(integer(values, 'before')));
      if (values.limit !== undefined) query.set('limit', String(integer(values, 'limit')));
      return client().request('GET', `/audit${query.size ? `?${query}` : ''}`);
    },
    human: (result) => (result as Array<{ seq: number; at: number; event: string; decision: string; client_id: string | null; resource: string | null; reason: string | null }>)
      .map((r) => `${r.seq}\t${new Date(r.at).toISOString()}\t${r.decision}\t${r.event}\t${r.client_id ?? '-'}\t${r.resource ?? '-'}\t${r.reason ?? ''}`).join('\n') || 'The audit log is empty.',
    fields: { ...AUDIT_FILTER_FIELDS, before: 'before', limit: 'limit' },
  },
  'audit export': {
    usage: 'latchkey audit export --format jsonl|csv [--app CLIENT_ID] [--user USER_ID] [--resource URI] [--event EVENT] [--decision allow|deny|info] [--since ISO] [--until ISO] [--out FILE]   every matching row, oldest first',
    options: { ...AUDIT_FILTER_FLAGS, format: str, out: str },
    run: async (client, values) => {
      const format = required(values, 'format');
      if (format !== 'jsonl' && format !== 'csv') throw new CliError('--format must be jsonl or csv', 2);
      const query = auditFilterQuery(values);
      query.set('format', format);
      const text = await client().text(`/audit/export?${query}`);
      if (values.out) {
        writePrivateFile(values.out as string, text);
        return { written: values.out, bytes: Buffer.byteLength(text) };
      }
      return { text };
    },
    human: (result) => { const r = result as { text?: string; written?: string; bytes?: number }; return r.text !== undefined ? r.text.replace(/\n$/, '') : `Wrote ${r.bytes} bytes to ${r.written}`; },
    fields: AUDIT_FILTER_FIELDS,
  },
  'audit verify': {
    usage: 'latchkey audit verify [--json]',
    options: { json },
    run: async (client) => {
      const result = await client().request<{ ok: boolean; rows: number; brokenAt?: number; why?: string }>('GET', '/audit/verify');
      if (!result.ok) throw new CliError(`the audit chain is broken at row ${result.brokenAt}: ${result.why}`);
      return result;
    },
    human: (result) => `The audit chain is intact (${(result as { rows: number }).rows} rows).`,
  },
  'vault status': {
    usage: 'latchkey vault status [--json]',
    options: { json },
    run: (client) => client().request('GET', '/vault'),
    human: (result) => { const v = result as VaultStatus; return `${v.state}${v.backend ? ` (${v.backend})` : ''}${v.message ? `\n${v.message}` : ''}`; },
  },
  'vault lock': {
    usage: 'latchkey vault lock [--json]   nothing that needs the vault is issued until it is unlocked again',
    options: { json },
    run: (client) => client().request('POST', '/vault/lock', {}),
    human: (result) => `Vault ${(result as VaultStatus).state}.`,
  },
  'vault unlock': {
    usage: 'latchkey vault unlock [--json]   (the passphrase is read from LATCHKEY_VAULT_PASSPHRASE, the terminal, or stdin)',
    options: { json },
    run: async (client) => {
      const admin = client();
      const status = await admin.request<VaultStatus>('GET', '/vault');
      if (status.state === 'unlocked') return status;
      // A keychain vault opens only with its keychain (after a "Lock vault"); asking for a passphrase would mislead.
      if (status.backend === 'keychain') return admin.request('POST', '/vault/unlock', {});
      const passphrase = await readSecretInput('Vault passphrase: ', { confirm: status.state === 'uninitialized', env: 'LATCHKEY_VAULT_PASSPHRASE' });
      return admin.request('POST', '/vault/unlock', { passphrase });
    },
    human: (result) => `Vault ${(result as VaultStatus).state}.`,
  },
  'agents pause': {
    usage: 'latchkey agents pause [--json]   refuse every issuance to every agent until resumed (kept across restarts)',
    options: { json },
    run: (client) => client().request('POST', '/agents/pause', { paused: true }),
    human: () => 'Agents paused: nothing is issued until `latchkey agents resume`.',
  },
  'agents resume': {
    usage: 'latchkey agents resume [--json]',
    options: { json },
    run: (client) => client().request('POST', '/agents/pause', { paused: false }),
    human: () => 'Agents resumed.',
  },
};
