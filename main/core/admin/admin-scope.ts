import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AgentPause } from '../sts/agent-pause.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { RefusalRecorder } from '../audit/refusals.js';
import type { Applications } from '../directory/applications.js';
import type { ApiKeys } from '../directory/api-keys.js';
import type { DeletedApplication } from '../consent/application-deletion.js';
import { DirectoryError } from '../directory/errors.js';
import type { Resources } from '../directory/resources.js';
import type { Users } from '../directory/users.js';
import type { ProviderAdmin } from '../brokered/provider-admin.js';
import type { BackgroundGrant } from '../consent/background-access.js';
import type { Consent, Consents } from '../consent/consents.js';
import type { Approvals } from '../consent/approvals.js';
import type { UiSessions } from '../consent/ui-sessions.js';
import type { Policies } from '../policy/policies.js';
import type { PolicyEngine } from '../policy/policy-engine.js';
import { InvalidRequest } from '../oauth/errors.js';
import type { ApprovalFeed } from './approval-feed.js';
import type { AuditFeed } from './audit-feed.js';
import type { VaultControl } from './vault-control.js';
import type { OwnerPresence, PresenceCaller } from '../consent/owner-presence.js';
import { PRESENCE_HEADER } from '../../../shared/admin-api.js';
import type { LoginLinks } from '../ui/login-links.js';

/** What the admin API needs of the broker: the directory, the audit log, and a few broker actions. */
export interface AdminDeps {
  adminTokenHash: Buffer;
  ownOrigin: () => string;
  issuer: () => string;
  transaction: <T>(work: () => T) => T;
  applications: Applications;
  resources: Resources;
  users: Users;
  apiKeys: ApiKeys;
  audit: AuditLog;
  refusals: RefusalRecorder;
  sessions: UiSessions;
  loginLinks: LoginLinks;
  consents: Consents;
  /** The approval queue of backchannel authentication (CIBA), and its live feed. */
  approvals: Approvals;
  approvalFeed: ApprovalFeed;
  /** The live feed of new audit rows (the UI's audit page and overview). */
  auditFeed: AuditFeed;
  policies: Policies;
  policyEngine: PolicyEngine;
  /** Upstream providers and the owner's accounts there (brokered access, issue 5 item 4). */
  providers: ProviderAdmin;
  /** Records the user's background-access grant (and its token family), audited, in one transaction. */
  grantBackgroundAccess: (grant: BackgroundGrant) => { consent: Consent; created: boolean };
  /** Withdraws a consent and ends its token families, in one transaction; null when it was not active. */
  withdrawConsent: (id: string, why: string) => Consent | null;
  /** Revokes the application's live access tokens for resources it no longer depends on; within the caller's transaction. */
  endAccessToRemovedResources: (clientId: string, resources: readonly string[]) => number;
  /** Deletes an application after ending its consents and tokens, in one audited transaction. */
  deleteApplication: (clientId: string) => DeletedApplication;
  /** Opening, unlocking and locking the vault with its signing keys; its status. */
  vault: VaultControl;
  /** The owner passphrase and proof of presence (issue 12 §1). */
  presence: OwnerPresence;
  /** "Pause all agents". */
  agentPause: AgentPause;
  /** Where this broker runs: its data dir, port and local socket (the UI's settings page). */
  runtime: () => { dataDir: string; port: number; socket: string | null };
  rotateKeys: () => Promise<{ kid: string; retired: string | null }>;
  listKeys: () => unknown[];
}

/** What an admin change's audit row says beyond its event. */
export interface AdminChange {
  clientId?: string | null;
  resource?: string | null;
  subject?: string | null;
  detail?: Record<string, unknown>;
}

/** Runs a change and appends its audit row in one transaction: either both are written, or neither. */
export type Audited = <T>(event: string, work: () => T, describe: (result: T) => AdminChange) => T;

/** The authenticated `/api` scope one resource's routes are registered on, with what they call. */
export interface AdminScope {
  api: FastifyInstance;
  deps: AdminDeps;
  audited: Audited;
  /**
   * Issue 12 §1, tightening is free, loosening needs the owner: a handler that grants or restores power calls
   * this first. Once the owner has set a passphrase, a caller without a fresh proof gets 403 owner_presence_required.
   */
  requireOwner: (request: FastifyRequest) => void;
}

/** Who asks to be taken as the owner: the UI's session (its presence window), or a token caller with its presence token. */
export function presenceCallerOf(request: FastifyRequest): PresenceCaller {
  const caller = request.adminCaller;
  if (caller?.kind === 'session') return { kind: 'session', sessionId: caller.session.idHash };
  const token = request.headers[PRESENCE_HEADER];
  return { kind: 'token', presenceToken: typeof token === 'string' ? token : undefined };
}

/** The request's JSON body; a form or no body at all is refused. */
export function jsonBody(request: FastifyRequest): unknown {
  if (request.body === undefined || request.form) throw new InvalidRequest('the body must be JSON');
  return request.body;
}

/** Parses a part of an admin request with its schema; the first problem is the 400's description. */
export function parse<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw DirectoryError.fromZod(parsed.error);
  return parsed.data;
}

/** `/…/:clientId`: an application's client id, looked up as given (an unknown one is a 404 of its own). */
export const clientIdParams = z.object({ clientId: z.string() });
/** `/…/:id`: the id of a provider, policy, consent, approval or API key. */
export const idParams = z.object({ id: z.string() });
