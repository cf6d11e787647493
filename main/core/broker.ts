import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { VaultStatus } from '../../shared/domain.js';
import { registerAdminRoutes } from './admin/routes.js';
import { AuditLog } from './audit/audit-log.js';
import { RefusalRecorder } from './audit/refusals.js';
import { type Clock, epochSeconds, systemClock } from './clock.js';
import { ApiKeys } from './directory/api-keys.js';
import { Applications } from './directory/applications.js';
import { hashSecret, randomSecret } from './store/credentials.js';
import { Resources } from './directory/resources.js';
import { Users } from './directory/users.js';
import { type Logger, stderrLogger } from './logger.js';
import { openDatabase, type Db } from './store/database.js';
import { GroupCommit } from './store/group-commit.js';
import { AssertionVerifier } from './sts/assertions.js';
import { AuthorizationCodes } from './sts/authorization-codes.js';
import { AuthorizationEndpoint } from './sts/endpoints/authorize.js';
import { UserInfoEndpoint } from './sts/endpoints/userinfo.js';
import { DEFAULT_REGISTRATION_LIMITS, RegistrationEndpoint, type RegistrationLimits } from './sts/endpoints/registration.js';
import { deleteApplication } from './consent/application-deletion.js';
import { endAccessToRemovedResources } from './consent/dependency-removal.js';
import { TokenBucket } from './transport/token-bucket.js';
import { AuthorizationCodeGrant } from './sts/grants/authorization-code.js';
import { RefreshTokenGrant } from './sts/grants/refresh-token.js';
import { UserTokens } from './sts/grants/user-tokens.js';
import { CibaGrant } from './sts/grants/ciba.js';
import { BackchannelAuthenticationEndpoint } from './sts/endpoints/backchannel-authentication.js';
import { Approvals } from './consent/approvals.js';
import type { Prompter } from './consent/prompter.js';
import { ApprovalFeed } from './admin/approval-feed.js';
import { Consents, withdrawConsent } from './consent/consents.js';
import { grantBackgroundAccess } from './consent/background-access.js';
import { UiSessions } from './consent/ui-sessions.js';
import { IssuedTokens } from './tokens/issued-tokens.js';
import { rotateAccessTokenKey } from './tokens/key-rotation.js';
import { Sweeper } from './store/sweeper.js';
import { VaultControl } from './admin/vault-control.js';
import { OwnerPresence } from './consent/owner-presence.js';
import { LoginLinks, type LoginLink } from './ui/login-links.js';
import { LiveAccessTokens } from './tokens/live-access-tokens.js';
import { FamilyRevocation } from './tokens/family-revocation.js';
import { TokenFamilies } from './tokens/token-families.js';
import { registerUiLogin } from './ui/login.js';
import { ClientAuthenticator } from './sts/client-auth.js';
import { IntrospectionEndpoint } from './sts/endpoints/introspection.js';
import { RevocationEndpoint } from './sts/endpoints/revocation.js';
import { TokenEndpoint } from './sts/endpoints/token.js';
import { ApiKeyGrant } from './sts/grants/api-key.js';
import { ClientCredentialsGrant } from './sts/grants/client-credentials.js';
import { JwtBearerGrant } from './sts/grants/jwt-bearer.js';
import { TokenExchangeGrant } from './sts/grants/token-exchange.js';
import { AccessTokenSubjects, SubstituteUserSubjects } from './sts/subject-tokens.js';
import { IssuerUrls } from './sts/issuer.js';
import { AgentPause } from './sts/agent-pause.js';
import { ReplayGuard } from './sts/replay-guard.js';
import { registerOAuthRoutes } from './sts/routes.js';
import { CredentialIssuer } from './tokens/credential-issuer.js';
import { LatchkeyTokenKind } from './tokens/latchkey-token-kind.js';
import { VaultedSecretKind } from './tokens/vaulted-secret-kind.js';
import { TargetResolver } from './sts/targets.js';
import { IssuancePolicy } from './policy/issuance-policy.js';
import { Policies } from './policy/policies.js';
import { PolicyEngine } from './policy/policy-engine.js';
import { SigningKeys } from './tokens/signing-keys.js';
import { createHttpApp, localSocketHandler } from './transport/http-app.js';
import { DEFAULT_LOCAL_SOCKET_LIMITS, defaultSocketPath, LocalSocketServer, type LocalSocketLimits } from './transport/local-socket.js';
import { findUiDir, registerUi } from './ui/static-ui.js';
import { AuditFeed } from './admin/audit-feed.js';
import type { KeyVault } from './vault/key-vault.js';
import type { ScryptParams } from './vault/passphrase.js';
import { Vault } from './vault/vault.js';
import { ResourceSecrets } from './directory/resource-secrets.js';
import { UpstreamTokenKind } from './brokered/upstream-token-kind.js';
import { ProviderAccounts } from './brokered/provider-accounts.js';
import { ProviderAdmin } from './brokered/provider-admin.js';
import { ProviderConnections } from './brokered/provider-connections.js';
import { Providers } from './brokered/providers.js';
import { registerBrokeredRoutes } from './brokered/routes.js';
import { UpstreamClients } from './brokered/upstream-client.js';
import { UpstreamTokens } from './brokered/upstream-tokens.js';

export interface BrokerOptions {
  dataDir: string;
  /** A passphrase for the vault; without one, the OS keychain is used. */
  passphrase?: string | undefined;
  /** scrypt cost for a new passphrase vault (tests lower it; the default is OWASP's). */
  scrypt?: ScryptParams | undefined;
  clock?: Clock | undefined;
  log?: Logger | undefined;
  /** Rate limit and cap of dynamic client registration (RFC 7591); tests change them. */
  registrationLimits?: Partial<RegistrationLimits> | undefined;
  /** Connection cap and timeouts of the local socket; tests lower them. */
  localSocketLimits?: Partial<LocalSocketLimits> | undefined;
  /** The shell's way of asking the user about an approval (a native window); the admin API's feed is always there. */
  prompter?: Prompter | undefined;
  /** The built React UI served at /ui/ (default: the repository's renderer/dist); the Electron shell serves its own. */
  uiDir?: string | null | undefined;
}

/**
 * The composition root (DESIGN.md §4): builds one broker from a data dir. The shells (the CLI's `serve`,
 * the Electron app) construct it, then call `listen`. Nothing here knows which shell it runs in.
 */
export class Broker {
  // What the shells and the tests reach: the store, the owner's brakes and queues, the directory they set up.
  readonly db: Db;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly vault: Vault;
  readonly keys: SigningKeys;
  readonly applications: Applications;
  readonly users: Users;
  readonly policyEngine: PolicyEngine;
  readonly sessions: UiSessions;
  readonly consents: Consents;
  /** The approval queue of backchannel authentication (CIBA); its prompters ask the user. */
  readonly approvals: Approvals;
  /** Upstream OAuth providers and the users' connected accounts there (brokered access). */
  readonly providers: Providers;
  readonly providerAccounts: ProviderAccounts;
  /** The admin credential of this run; written to the data dir by the shell, never logged. */
  readonly adminToken: string;
  /** "Pause all agents": while on, nothing is issued (kept across restarts). */
  readonly agentPause: AgentPause;

  private readonly log: Logger;
  private urls: IssuerUrls | undefined;
  private allowedHosts: ReadonlySet<string> = new Set();
  private readonly http: FastifyInstance;
  private localSocket: LocalSocketServer | undefined;
  private readonly groupCommit: GroupCommit;
  private readonly approvalFeed = new ApprovalFeed();
  private readonly auditFeed: AuditFeed;
  private readonly sweeper: Sweeper;
  private readonly vaultControl: VaultControl;
  private readonly loginLinks: LoginLinks;
  private readonly presence: OwnerPresence;
  /** The vault being opened, from the constructor on; `open()` awaits it. */
  private readonly opening: Promise<void>;

  private constructor(readonly options: BrokerOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? stderrLogger;
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(options.dataDir, 0o700);
    const dbFile = join(options.dataDir, 'latchkey.db');
    this.db = openDatabase(dbFile);
    this.groupCommit = new GroupCommit(this.db, `${dbFile}-wal`);
    this.audit = new AuditLog(this.db, this.clock);
    this.auditFeed = new AuditFeed(this.audit, this.log);
    this.vault = new Vault(this.db, this.clock);
    this.keys = new SigningKeys(this.db, this.vault, this.clock);
    this.applications = new Applications(this.db, this.clock);
    const resources = new Resources(this.db, this.clock, new ResourceSecrets(this.db, this.vault));
    this.users = new Users(this.db, this.clock);
    const apiKeys = new ApiKeys(this.db, this.clock);
    const replay = new ReplayGuard(this.db);
    this.sessions = new UiSessions(this.db, this.clock);
    this.consents = new Consents(this.db, this.clock);
    const issuedTokens = new IssuedTokens(this.db, this.clock, { applications: this.applications, users: this.users });
    const families = new TokenFamilies(this.db, this.clock, issuedTokens);
    const codes = new AuthorizationCodes(this.db, this.clock);
    this.approvals = new Approvals(this.db, this.clock, this.applications, this.consents, this.audit, this.log);
    this.approvals.addPrompter(this.approvalFeed);
    if (options.prompter) this.approvals.addPrompter(options.prompter);
    this.adminToken = randomSecret();
    this.agentPause = new AgentPause(this.db, this.audit);
    // The keychain (D-Bus) and scrypt answer on worker threads: ask them now, and build the HTTP app
    // below while they work. Nothing below touches the vault; `open()` awaits this and handles a failure.
    this.vaultControl = new VaultControl(this.vault, this.keys, this.audit, this.log, options);
    this.opening = this.vaultControl.open();
    this.opening.catch(() => {});
    this.presence = new OwnerPresence(this.db, this.audit, this.clock, options.scrypt);
    this.loginLinks = new LoginLinks(this.users, this.sessions, this.audit, (work) => this.db.transaction(work).immediate());

    const issuer = () => this.issuerUrls.issuer;
    const transaction = <T>(work: () => T): T => this.db.transaction(work).immediate();
    const assertions = new AssertionVerifier(this.applications, replay, this.clock);
    const clients = new ClientAuthenticator(this.applications, assertions, () => this.issuerUrls.assertionAudiences);
    // Cedar is compiled once here, and the policy set parsed once per change (issue 5 item 1).
    this.policyEngine = new PolicyEngine();
    const policies = new Policies(this.db, this.policyEngine, this.audit, this.clock);
    const policy = new IssuancePolicy(this.policyEngine, resources, this.users);
    const secrets = new ResourceSecrets(this.db, this.vault);
    // Brokered access (issue 5 item 4): openid-client is loaded on first use, never at start.
    this.providers = new Providers(this.db, this.vault, this.clock);
    this.providerAccounts = new ProviderAccounts(this.db, this.vault, this.clock);
    const upstreamClients = new UpstreamClients(this.providers, this.clock);
    const upstreamTokens = new UpstreamTokens(this.providerAccounts, upstreamClients, this.audit, transaction, this.clock, issuer);
    const refusals = new RefusalRecorder(this.audit);
    const providerConnections = new ProviderConnections(this.db, this.vault, this.providers, resources, this.providerAccounts, upstreamClients, this.audit, refusals, transaction, this.clock, issuer);
    const providerAdmin = new ProviderAdmin(this.providers, this.providerAccounts, providerConnections, upstreamClients, resources, this.users, this.audit, transaction, this.log);
    // The credential pipeline (docs/ARCHITECTURE.md): the token endpoint builds each request's context, a grant
    // decides what to issue, the issuer issues it through the kind of the target's credential type.
    const credentials = new CredentialIssuer([
      new LatchkeyTokenKind(this.keys, issuedTokens),
      new VaultedSecretKind(secrets),
      new UpstreamTokenKind(this.providers, upstreamTokens, this.clock),
    ], policy, this.groupCommit, this.audit, this.keys);
    const targets = new TargetResolver(this.applications, resources);
    const liveTokens = new LiveAccessTokens(this.keys, issuedTokens);
    const replays = new FamilyRevocation(families, this.audit, transaction);
    const userTokens = new UserTokens(families, targets);
    const token = new TokenEndpoint([
      new ClientCredentialsGrant(targets),
      new ApiKeyGrant(apiKeys, this.applications, targets),
      new JwtBearerGrant(assertions, () => this.issuerUrls.assertionAudiences, targets),
      new AuthorizationCodeGrant(codes, userTokens, this.consents, this.users, replays),
      new CibaGrant(this.approvals, userTokens, this.consents, this.users),
      new RefreshTokenGrant(families, this.consents, this.users, targets, replays),
      new TokenExchangeGrant(
        [
          new AccessTokenSubjects(liveTokens, issuedTokens, resources, families, this.consents),
          new SubstituteUserSubjects(this.users, this.consents, families, this.policyEngine),
        ],
        liveTokens, assertions, () => this.issuerUrls.assertionAudiences, this.applications, targets),
    ], clients, credentials, refusals, this.agentPause, this.clock, issuer);
    const authorization = new AuthorizationEndpoint({
      db: this.db, transaction, applications: this.applications, resources, users: this.users,
      consents: this.consents, codes, audit: this.audit, refusals, clock: this.clock, issuer, policy, targets, presence: this.presence,
      brokered: {
        status: (providerId, userId) => this.providerAccounts.get(providerId, userId)?.status ?? 'not_connected',
        providerName: (providerId) => this.providers.get(providerId)?.name ?? providerId,
        authorizationOrigin: (providerId) => upstreamClients.authorizationOrigin(this.providers.get(providerId)!),
      },
    });

    const registrationLimits = { ...DEFAULT_REGISTRATION_LIMITS, ...options.registrationLimits };
    this.http = createHttpApp({ allowedHosts: () => this.allowedHosts, ownOrigin: issuer, log: this.log });
    registerOAuthRoutes(this.http, {
      urls: () => this.issuerUrls,
      token,
      introspection: new IntrospectionEndpoint(clients, liveTokens, resources, refusals, this.clock, issuer),
      revocation: new RevocationEndpoint(clients, this.keys, this.audit, refusals, this.clock, issuer, transaction, families, issuedTokens),
      authorization,
      userinfo: new UserInfoEndpoint(liveTokens, this.users, refusals, this.clock, issuer),
      registration: new RegistrationEndpoint(this.applications, this.audit, refusals, transaction,
        new TokenBucket(this.clock, registrationLimits.perMinute, registrationLimits.burst), registrationLimits.maxClients),
      backchannel: new BackchannelAuthenticationEndpoint(clients, this.applications, resources, targets, this.users, this.approvals, this.consents, refusals, this.agentPause),
      sessions: this.sessions,
      keys: this.keys,
      refusals,
    });
    registerBrokeredRoutes(this.http, { issuer, connections: providerConnections, providers: this.providers, authorization, sessions: this.sessions, refusals });
    registerUi(this.http, options.uiDir === undefined ? findUiDir() : options.uiDir);
    registerUiLogin(this.http, { sessions: this.sessions, audit: this.audit, refusals, transaction });
    registerAdminRoutes(this.http, {
      adminTokenHash: hashSecret(this.adminToken),
      ownOrigin: issuer,
      issuer,
      transaction,
      policies: policies,
      policyEngine: this.policyEngine,
      applications: this.applications,
      resources: resources,
      users: this.users,
      apiKeys: apiKeys,
      audit: this.audit,
      refusals,
      sessions: this.sessions,
      loginLinks: this.loginLinks,
      consents: this.consents,
      approvals: this.approvals,
      approvalFeed: this.approvalFeed,
      providers: providerAdmin,
      auditFeed: this.auditFeed,
      grantBackgroundAccess: (request) => transaction(() => grantBackgroundAccess({ consents: this.consents, families, applications: this.applications, resources, users: this.users, audit: this.audit, clock: this.clock }, request)),
      withdrawConsent: (id, why) => transaction(() => withdrawConsent(this.consents, families, this.audit, id, why)),
      endAccessToRemovedResources: (clientId, removed) => endAccessToRemovedResources({ issuedTokens, clock: this.clock }, clientId, removed),
      deleteApplication: (clientId) => {
        // Its impersonation permit goes with it: a client id freed by deletion must not keep a permission.
        const deleted = transaction(() => {
          const result = deleteApplication({ applications: this.applications, consents: this.consents, families, issuedTokens, audit: this.audit, clock: this.clock }, clientId);
          policies.setImpersonationPermit(clientId, false);
          return result;
        });
        policies.reload();
        return deleted;
      },
      runtime: () => ({ dataDir: this.options.dataDir, port: Number(new URL(this.issuer).port), socket: this.socketPath }),
      vault: this.vaultControl,
      presence: this.presence,
      agentPause: this.agentPause,
      rotateKeys: () => rotateAccessTokenKey(this.keys, resources, this.audit),
      listKeys: () => this.keys.list(),
    });
    this.sweeper = new Sweeper([
      { sweep: () => replay.sweep(epochSeconds(this.clock)) }, issuedTokens, this.sessions, codes, families, authorization, this.approvals, providerConnections,
    ], this.log);
  }

  /** Opens the data dir and the vault. A vault that cannot be opened leaves the broker up but unable to issue. */
  static async open(options: BrokerOptions): Promise<Broker> {
    const broker = new Broker(options);
    try {
      await broker.opening;
    } catch (error) {
      broker.db.close();
      throw error;
    }
    return broker;
  }

  get issuerUrls(): IssuerUrls {
    if (!this.urls) throw new Error('the broker is not listening yet');
    return this.urls;
  }

  get issuer(): string {
    return this.issuerUrls.issuer;
  }

  /** Listens on loopback only. Port 0 picks a free port; the issuer follows from the port. */
  async listen(port = 0): Promise<string> {
    await this.http.listen({ host: '127.0.0.1', port });
    const bound = (this.http.server.address() as AddressInfo).port;
    this.urls = new IssuerUrls(`http://127.0.0.1:${bound}`);
    this.allowedHosts = new Set([`127.0.0.1:${bound}`, `localhost:${bound}`]);
    this.sweeper.start();
    return this.urls.issuer;
  }

  /**
   * Compiles the policy engine, which otherwise compiles on first use: a shell calls this once it has
   * announced that the broker is up, so the start is not held up by it. A policy set that no longer loads
   * is reported here; until it loads, every issuance fails closed.
   */
  warmUp(): void {
    try {
      this.policyEngine.warm();
    } catch (error) {
      this.log.error(`the policy engine could not be loaded; nothing will be issued until it can: ${(error as Error).message}`);
    }
  }

  /**
   * Serves the same application on the local socket (DESIGN.md §6): a Unix domain socket, by default
   * `DATA_DIR/run/latchkey.sock` (Windows: a named pipe). After `listen`: the issuer is the TCP one.
   * Refuses, with a one-line LocalSocketError, a path held by a live socket or by anything but a socket,
   * and a directory other users can enter. Returns the path.
   */
  async listenSocket(path: string = defaultSocketPath(this.options.dataDir)): Promise<string> {
    if (!this.urls) throw new Error('listen() first: the issuer is the loopback HTTP listener\'s');
    if (this.localSocket) throw new Error(`already serving the local socket ${this.localSocket.path}`);
    const limits = { ...DEFAULT_LOCAL_SOCKET_LIMITS, ...this.options.localSocketLimits };
    const socket = new LocalSocketServer(path, localSocketHandler(this.http), limits);
    await socket.listen();
    this.localSocket = socket;
    return path;
  }

  /** The local socket's path, or null when the broker serves none. */
  get socketPath(): string | null {
    return this.localSocket?.path ?? null;
  }

  async close(): Promise<void> {
    this.sweeper.stop();
    this.approvalFeed.close();
    this.auditFeed.close();
    await this.localSocket?.close();
    this.localSocket = undefined;
    await this.http.close();
    // A key being made is written to the database once made; a failure was reported already.
    await this.keys.whenMade().catch(() => {});
    this.groupCommit.close();
    if (this.db.open) this.db.close();
  }

  /** Opens (or creates) the vault with a backend, then loads the signing keys. */
  unlock(backend: KeyVault): Promise<void> {
    return this.vaultControl.unlock(backend);
  }

  /**
   * A one-time link to a UI session for the owner, audited (the shell opens or prints it, as
   * `latchkey login-url` does). Null while the owner is disabled.
   */
  loginLink(): LoginLink | null {
    return this.loginLinks.create(this.issuer);
  }

  /** Whether the owner has set a passphrase (issue 12 §1); until then loosening needs no proof of presence. */
  get ownerPassphraseSet(): boolean {
    return this.presence.passphraseSet;
  }

  vaultStatus(): VaultStatus {
    return this.vaultControl.status();
  }

  /** Opens the vault with its passphrase, or a keychain vault from its keychain (the tray, the admin API). */
  unlockVault(passphrase: string | undefined): Promise<VaultStatus> {
    return this.vaultControl.unlockWith(passphrase);
  }

  /** "Lock vault" (the tray, the admin API): nothing that needs the vault is issued until it is unlocked. */
  lockVault(by: string): VaultStatus {
    return this.vaultControl.lock(by);
  }
}

