// The admin API's contract (`/api/...`): request and response schemas used by the broker, the CLI and
// the UI. Validation happens at the broker's boundary with these same schemas.
import { z } from 'zod';
import { CLIENT_AUTH_METHODS, CONSENT_MODES, CREDENTIAL_TYPES, DEFAULT_MAX_DELEGATION_DEPTH, ID_TOKEN_ALGS, IDENTITY_TYPES, isResourceIdentifier, isScopeToken, type VaultStatus } from './domain.js';

/** An absolute URI without a fragment (RFC 8707 §2: resource indicators). */
export const resourceIdentifier = z.string().max(2048).refine(isResourceIdentifier, 'must be an absolute URI without a fragment');

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
export const scopeToken = z.string().max(256).refine(isScopeToken, 'not a valid scope token');

const name = z.string().trim().min(1).max(200);

export const jwkSet = z.object({
  keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20),
});

export const setupRequest = z.object({ name, email: z.email().max(320) }).strict();

/**
 * A static secret for a vaulted resource. Its zod messages name only lengths, never the value.
 * 32 KiB holds a PEM key or a service-account JSON file, and fits the admin API's 64 KiB body once JSON-escaped.
 */
export const resourceSecret = z.string().min(1, 'the secret is empty').max(32_768, 'the secret is longer than 32 KiB');

/** `POST /api/resources/secret` (`latchkey resource secret set`): replaces a vaulted resource's secret. */
export const setResourceSecretRequest = z.object({ identifier: resourceIdentifier, secret: resourceSecret }).strict();
export type SetResourceSecretRequest = z.input<typeof setResourceSecretRequest>;

export const createResourceRequest = z.object({
  name,
  identifier: resourceIdentifier,
  scopes: z.array(scopeToken).max(100).default([]),
  credential_type: z.enum(CREDENTIAL_TYPES).default('token'),
  token_lifetime: z.number().int().min(30).max(86_400).default(600),
  served_by: z.string().min(1).max(200).optional(),
  /** A vaulted resource's secret (issue 5 item 3): sealed in the vault, never shown again. */
  secret: resourceSecret.optional(),
  /** A brokered resource's provider (issue 5 item 4) and the upstream scopes it needs. */
  provider_id: z.string().min(1).max(200).optional(),
  upstream_scopes: z.array(scopeToken).max(100).optional(),
}).strict();
export type CreateResourceRequest = z.input<typeof createResourceRequest>;

export const createApplicationRequest = z.object({
  name,
  identity_type: z.enum(IDENTITY_TYPES).default('agent'),
  sub_type: z.string().trim().min(1).max(100).optional(),
  auth_method: z.enum(CLIENT_AUTH_METHODS).default('client_secret_basic'),
  jwks: jwkSet.optional(),
  grant_types: z.array(z.string().min(1).max(200)).max(10).optional(),
  resources: z.array(resourceIdentifier).max(100).default([]),
  scopes: z.array(scopeToken).max(100).optional(),
  redirect_uris: z.array(z.string().max(2048)).max(20).default([]),
  consent_mode: z.enum(CONSENT_MODES).default('explicit'),
  max_delegation_depth: z.number().int().min(1).max(10).default(DEFAULT_MAX_DELEGATION_DEPTH),
  id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS).default('RS256'),
}).strict();
export type CreateApplicationRequest = z.input<typeof createApplicationRequest>;

/**
 * `PATCH /api/applications/:clientId` (`latchkey app update`): changes what `app create` set. Resources and
 * grant types are added or removed (checked as at creation); `scopes` replaces the application's allowed
 * scopes (each a scope of one of its resources; null: any scope of its resources). Removing a resource ends
 * the application's live access tokens for it, and refresh no longer reaches it. `allow_impersonation` is
 * the admin's permission for the application to act for a user in the background (issue 4 item 2b), off by
 * default.
 */
export const updateApplicationRequest = z.object({
  add_resources: z.array(resourceIdentifier).max(100).optional(),
  remove_resources: z.array(resourceIdentifier).max(100).optional(),
  add_grant_types: z.array(z.string().min(1).max(200)).max(10).optional(),
  remove_grant_types: z.array(z.string().min(1).max(200)).max(10).optional(),
  scopes: z.array(scopeToken).max(100).nullable().optional(),
  consent_mode: z.enum(CONSENT_MODES).optional(),
  allow_impersonation: z.boolean().optional(),
}).strict();
export type UpdateApplicationRequest = z.input<typeof updateApplicationRequest>;

/** A passphrase vault needs its passphrase; a keychain vault (locked by the user) reopens with none. */
export const unlockVaultRequest = z.object({ passphrase: z.string().min(1).max(1024).optional() }).strict();
/** "Pause all agents": while paused, nothing is issued to any agent. */
export const pauseAgentsRequest = z.object({ paused: z.boolean() }).strict();

/**
 * The audit log's filters, shared by `GET /api/audit` and `GET /api/audit/export`: application (`client_id`),
 * user or `client:…` subject (`subject`, or its alias `user`), resource, decision, event, and a time window in
 * epoch milliseconds (`since` inclusive, `until` exclusive, as `AuditRecordView.at`).
 */
const auditFilters = {
  client_id: z.string().max(200).optional(),
  subject: z.string().max(200).optional(),
  user: z.string().max(200).optional(),
  resource: z.string().max(2048).optional(),
  event: z.string().max(100).optional(),
  decision: z.enum(['allow', 'deny', 'info']).optional(),
  since: z.coerce.number().int().min(0).optional(),
  until: z.coerce.number().int().min(0).optional(),
};

/**
 * `GET /api/audit` (`latchkey audit list`): the newest rows first, narrowed by the filters; `before` (a row's
 * `seq`) pages back: the rows older than it.
 */
export const auditQuery = z.object({
  ...auditFilters,
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
}).strict();
export type AuditQuery = z.input<typeof auditQuery>;

/** `GET /api/audit/export` (`latchkey audit export`): every row the filters match, oldest first, as JSONL or CSV. */
export const auditExportQuery = z.object({ ...auditFilters, format: z.enum(['jsonl', 'csv']) }).strict();

export interface ApplicationView {
  client_id: string;
  name: string;
  identity_type: string;
  sub_type: string | null;
  client_type: 'confidential' | 'public';
  auth_method: string;
  grant_types: string[];
  scopes: string[] | null;
  resources: string[];
  redirect_uris: string[];
  consent_mode: string;
  registration: 'admin' | 'dynamic';
  max_delegation_depth: number;
  id_token_signed_response_alg: string;
  /** Whether the admin permitted it to impersonate users (token exchange with a substitute-user subject token). */
  allow_impersonation: boolean;
  enabled: boolean;
  has_jwks: boolean;
  created_at: string;
}

export interface ResourceView {
  identifier: string;
  name: string;
  scopes: string[];
  credential_type: string;
  token_lifetime: number;
  served_by: string | null;
  created_at: string;
  /** Vaulted resources only: whether a secret is sealed, and when it was last set. The secret itself is never shown. */
  has_secret?: boolean;
  secret_set_at?: string | null;
  /** Brokered resources: the upstream provider, and the upstream scopes the resource needs (else null and []). */
  provider_id: string | null;
  upstream_scopes: string[];
}

/** An absolute http(s) URL: an upstream provider's issuer or endpoint. */
const upstreamUrl = z.string().max(2048).refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hash === '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL without credentials or fragment');

/**
 * `POST /api/providers` (`latchkey provider create`): an upstream OAuth 2.0 / OIDC server (issue 5 item 4),
 * by its issuer (discovery) or by explicit endpoints. The client secret is sealed in the vault and never
 * shown again.
 */
export const createProviderRequest = z.object({
  name,
  issuer: upstreamUrl.optional(),
  endpoints: z.object({
    authorization_endpoint: upstreamUrl,
    token_endpoint: upstreamUrl,
    revocation_endpoint: upstreamUrl.optional(),
  }).strict().optional(),
  client_id: z.string().min(1).max(500),
  client_secret: z.string().min(1, 'the client secret is empty').max(4096, 'the client secret is longer than 4 KiB').optional(),
  scopes: z.array(scopeToken).max(100).default([]),
}).strict();
export type CreateProviderRequest = z.input<typeof createProviderRequest>;

export interface ProviderView {
  /** e.g. "prv_…" */
  id: string;
  name: string;
  issuer: string | null;
  client_id: string;
  has_client_secret: boolean;
  scopes: string[];
  /** The owner's upstream account with this provider. */
  status: 'not_connected' | 'connected' | 'needs_attention';
  /** Why it needs attention (e.g. "the upstream refresh token was revoked"), else null. Never a token. */
  attention: string | null;
  connected_at: string | null;
  created_at: string;
}

export interface ApiKeyView {
  id: string;
  client_id: string;
  created_at: string;
  revoked_at: string | null;
}

/** `GET /api/vault`, and the vault in `GET /api/status`: the broker's own VaultStatus. */
export type { VaultStatus } from './domain.js';

/** A consent: what an application may do for a user (issue 3 item 9). */
/** An agent waiting for the user's approval (CIBA); what GET /api/approvals lists and the live feed announces. */
export interface ApprovalView {
  id: string;
  client_id: string;
  application: string;
  user_id: string;
  resources: string[];
  scopes: string[];
  /** Set by the agent: show it escaped, as text. */
  binding_message: string | null;
  created_at: string;
  expires_at: string;
}

/** POST /api/approvals/:id/approve: optionally remember the approval for a while (seconds). */
export const approveRequest = z.object({
  remember_seconds: z.number().int().min(1).max(30 * 86_400).optional(),
}).strict();
export type ApproveRequest = z.infer<typeof approveRequest>;

export interface ConsentView {
  id: string;
  user_id: string;
  client_id: string;
  application: string | null;
  /** How the application was registered: 'dynamic' means it named itself (shown as unverified). */
  registration: 'admin' | 'dynamic' | null;
  resources: string[];
  scopes: string[];
  remembered: boolean;
  /** When a remembered approval stops being remembered; null: until withdrawn. */
  remembered_until: string | null;
  /** A background-access grant: the application may act for the user without them (impersonation). */
  background: boolean;
  created_at: string;
  revoked_at: string | null;
}

/** `GET /api/api-keys` (`latchkey apikey list`): every key, or one application's. */
export const apiKeyQuery = z.object({ client_id: z.string().optional() });

const policyTextRequired = 'text (the Cedar policy) is required';

/**
 * `POST /api/policies` and `/api/policies/validate` (`latchkey policy add|validate`): a Cedar policy file and
 * what it is for (cut to 500 characters). A problem is described without the field's path, as the admin reads it.
 */
export const policyRequest = z.object({
  text: z.string({ error: policyTextRequired }).min(1, policyTextRequired).max(64 * 1024, 'the policy text is too long (64 KiB at most)'),
  description: z.string({ error: 'description must be a string' }).optional().transform((description) => description?.slice(0, 500)),
}, { error: policyTextRequired });

/**
 * `POST /api/policies/test` (`latchkey policy test`): would this issuance be allowed, and by which policies.
 * `app`, `resource` and `action` are required; what else is not understood falls back to its default: the
 * resource's scopes, no user, the action's usual delegation depth, transport and trust level.
 */
const whatIfRequired = 'app, resource and action are required';
export const policyTestRequest = z.object({
  app: z.string({ error: whatIfRequired }),
  resource: z.string({ error: whatIfRequired }),
  action: z.string({ error: whatIfRequired }),
  scopes: z.array(z.unknown()).transform((scopes) => scopes.filter((scope): scope is string => typeof scope === 'string')).optional().catch(undefined),
  user: z.string().optional().catch(undefined),
  delegation_depth: z.number().refine(Number.isInteger).optional().catch(undefined),
  transport: z.string().optional().catch(undefined),
  trust_level: z.string().optional().catch(undefined),
}, { error: whatIfRequired });

/** A one-time login link to a UI session; `next` may only lead to the authorization endpoint. */
export const loginLinkRequest = z.object({ next: z.string().max(4096).optional() }).strict();

/**
 * `POST /api/consents` (`latchkey consent grant --background`): the user lets an application act for them
 * in the background (issue 4 item 2d) for these resources, with at most these scopes (default: all the
 * application may have there). Only background grants are made here; interactive consent is given on the
 * consent page. `user_id` defaults to the owner.
 */
export const grantConsentRequest = z.object({
  client_id: z.string().min(1).max(200),
  user_id: z.string().min(1).max(200).optional(),
  resources: z.array(resourceIdentifier).min(1).max(20),
  scopes: z.array(scopeToken).max(100).optional(),
  background: z.literal(true),
}).strict();
export type GrantConsentRequest = z.input<typeof grantConsentRequest>;

export const consentQuery = z.object({
  client_id: z.string().max(200).optional(),
  user_id: z.string().max(200).optional(),
  include_revoked: z.enum(['true', 'false']).optional(),
}).strict();

/**
 * `GET /api/session`: the UI's admin session (issue 6 item 2); 401 when there is none. In the desktop app
 * the shell calls the admin API with the admin token instead of a cookie: then there is no session to
 * describe, only the owner, and `csrf_token` and `started_at` are null (nothing to sign out of).
 */
export interface SessionView {
  /** The signed-in owner; null in a first-run session, opened before there is an owner (setup makes one). */
  user: { id: string; name: string; email: string } | null;
  /**
   * Sent back as the `x-latchkey-csrf` header on every state-changing request of this session; null for a
   * Bearer caller (the desktop app), whose requests need none: no web page can attach that header.
   */
  csrf_token: string | null;
  /** When the cookie session began; null without one. */
  started_at: string | null;
}

/** The header a browser session's state-changing admin requests carry the CSRF token in. */
export const CSRF_HEADER = 'x-latchkey-csrf';

/** `GET /api/status`. */
export interface StatusView {
  issuer: string;
  vault: VaultStatus;
  owner: { id: string; name: string; email: string } | null;
  /** "Pause all agents" is on: nothing is issued until it is switched off. */
  agents_paused: boolean;
  /** Where this broker keeps its data, and the local socket it serves (null when none). */
  data_dir?: string;
  socket?: string | null;
  port?: number;
}

/** A row of the audit log, as `GET /api/audit` lists it and `GET /api/audit/events` announces it (`event: audit`). */
export interface AuditRecordView {
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  event: string;
  decision: 'allow' | 'deny' | 'info';
  client_id: string | null;
  subject: string | null;
  resource: string | null;
  grant_type: string | null;
  reason: string | null;
  jti: string | null;
  /** JSON text, or null. */
  detail: string | null;
  prev_hash: string;
  hash: string;
}

/** `POST /api/applications` (201): the view, and the client secret of a confidential client, in this one response only. */
export type CreatedApplicationView = ApplicationView & { client_secret?: string };

/** `POST /api/applications/:clientId/api-keys` (201): the key, in this one response only. */
export interface CreatedApiKeyView {
  id: string;
  client_id: string;
  api_key: string;
}

/** `GET /api/keys`: the signing keys, public facts only (times in epoch milliseconds). */
export interface SigningKeyView {
  kid: string;
  alg: string;
  purpose: string;
  created_at: number;
  retired_at: number | null;
  publish_until: number | null;
}

// Owner presence (issue 12 §1): tightening is free, loosening needs the owner. Once the owner has set a
// passphrase, every admin call that grants or restores power needs a fresh proof that the owner typed it.

/** The error of a loosening call without a fresh presence proof (403); the UI and the CLI turn it into the prompt. */
export const OWNER_PRESENCE_REQUIRED = 'owner_presence_required';
/** The header a CLI (admin token) sends on a loosening call: the presence token `POST /api/owner/presence` gave it. */
export const PRESENCE_HEADER = 'latchkey-presence';

/**
 * `POST /api/owner/passphrase`: sets the owner passphrase (the first time, `current_passphrase` is not asked
 * for) or changes it (`current_passphrase` required). A weak one is refused 400 `weak_passphrase`, saying why.
 */
export const setOwnerPassphraseRequest = z.object({
  passphrase: z.string().min(1).max(1024),
  current_passphrase: z.string().min(1).max(1024).optional(),
}).strict();
export type SetOwnerPassphraseRequest = z.infer<typeof setOwnerPassphraseRequest>;

/**
 * `POST /api/owner/presence`: the owner types the passphrase. A UI session is then present for 5 minutes; an
 * admin-token caller (the CLI) gets a presence token for its one command. A wrong one is 403 `wrong_passphrase`;
 * after several, 429 `too_many_attempts` with Retry-After.
 */
export const ownerPresenceRequest = z.object({ passphrase: z.string().min(1).max(1024) }).strict();
export type OwnerPresenceRequest = z.infer<typeof ownerPresenceRequest>;

/** `GET /api/owner`: whether a passphrase is set, and the caller's presence. */
export interface OwnerView {
  passphrase_set: boolean;
  /** The caller's presence window (a UI session's), or null. */
  present_until: string | null;
  /** While wrong passphrases have locked presence out, or null. */
  locked_until: string | null;
  /** Wrong passphrases since the last right one ("someone tried to act as you"). */
  failed_attempts: number;
  last_failed_at: string | null;
}

/** `POST /api/owner/presence`'s answer. */
export interface PresenceProof {
  present_until: string;
  /** For an admin-token caller only: send it as the `latchkey-presence` header; never stored. Null for a UI session. */
  presence_token: string | null;
}
