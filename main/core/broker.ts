import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { VaultStatus } from '../../shared/admin-api.js';
import { registerAdminRoutes } from './admin/routes.js';
import { AuditLog } from './audit/audit-log.js';
import { RefusalRecorder } from './audit/refusals.js';
import { type Clock, epochSeconds, systemClock } from './clock.js';
import { ApiKeys } from './directory/api-keys.js';
import { Applications } from './directory/applications.js';
import { DirectoryError } from './directory/errors.js';
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
import { deleteApplication } from './directory/application-deletion.js';
import { endAccessToRemovedResources } from './directory/dependency-removal.js';
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
import { ID_TOKEN_LIFETIME_SECONDS } from './tokens/id-token.js';
import { TokenChains } from './tokens/token-chain.js';
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
import { Issuance } from './tokens/issuance.js';
import { IssuancePolicy } from './policy/issuance-policy.js';
import { Policies } from './policy/policies.js';
import { PolicyEngine } from './policy/policy-engine.js';
import { SigningKeys } from './tokens/signing-keys.js';
import { createHttpApp, localSocketHandler } from './transport/http-app.js';
import { DEFAULT_LOCAL_SOCKET_LIMITS, defaultSocketPath, LocalSocketServer, type LocalSocketLimits } from './transport/local-socket.js';
import { findUiDir, registerUi } from './ui/static-ui.js';
import { AuditFeed } from './admin/audit-feed.js';
import type { KeyVault } from './vault/key-vault.js';
import { VaultError } from './vault/key-vault.js';
import { KeychainKeyVault } from './vault/keychain.js';
import { PassphraseKeyVault, type ScryptParams } from './vault/passphrase.js';
import { Vault } from './vault/vault.js';
import { ResourceSecrets } from './directory/resource-secrets.js';
import { SecretRelease } from './tokens/secret-release.js';
import { BrokeredRelease } from './brokered/brokered-release.js';
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
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly audit: AuditLog;
  readonly vault: Vault;
  readonly keys: SigningKeys;
  readonly applications: Applications;
  readonly resources: Resources;
  readonly users: Users;
  readonly policyEngine: PolicyEngine;
  readonly policies: Policies;
  readonly apiKeys: ApiKeys;
  readonly sessions: UiSessions;
  readonly consents: Consents;
  readonly families: TokenFamilies;
  readonly chains: TokenChains;
  readonly codes: AuthorizationCodes;
  /** The approval queue of backchannel authentication (CIBA); its prompters ask the user. */
  readonly approvals: Approvals;
  /** Upstream OAuth providers and the users' connected accounts there (brokered access). */
  readonly providers: Providers;
  readonly providerAccounts: ProviderAccounts;
  private readonly providerConnections: ProviderConnections;
  /** The admin credential of this run; written to the data dir by the shell, never logged. */
  readonly adminToken: string;
  /** "Pause all agents": while on, nothing is issued (kept across restarts). */
  readonly agentPause: AgentPause;

  private urls: IssuerUrls | undefined;
  private allowedHosts: ReadonlySet<string> = new Set();
  private readonly http: FastifyInstance;
  private localSocket: LocalSocketServer | undefined;
  private readonly replay: ReplayGuard;
  private readonly authorization: AuthorizationEndpoint;
  private readonly groupCommit: GroupCommit;
  private readonly approvalFeed = new ApprovalFeed();
  private readonly auditFeed: AuditFeed;
  private sweeper: NodeJS.Timeout | undefined;
  private keyProblem: string | null = null;
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
    this.resources = new Resources(this.db, this.clock, new ResourceSecrets(this.db, this.vault));
    this.users = new Users(this.db, this.clock);
    this.apiKeys = new ApiKeys(this.db, this.clock);
    this.replay = new ReplayGuard(this.db);
    this.sessions = new UiSessions(this.db, this.clock);
    this.consents = new Consents(this.db, this.clock);
    this.chains = new TokenChains(this.db);
    this.families = new TokenFamilies(this.db, this.clock, this.chains);
    this.codes = new AuthorizationCodes(this.db, this.clock);
    this.approvals = new Approvals(this.db, this.clock, this.applications, this.consents, this.audit, this.log);
    this.approvals.addPrompter(this.approvalFeed);
    if (options.prompter) this.approvals.addPrompter(options.prompter);
    this.adminToken = randomSecret();
    this.agentPause = new AgentPause(this.db, this.audit);
    // The keychain (D-Bus) and scrypt answer on worker threads: ask them now, and build the HTTP app
    // below while they work. Nothing below touches the vault; `open()` awaits this and handles a failure.
    this.opening = this.openVault();
    this.opening.catch(() => {});

    const issuer = () => this.issuerUrls.issuer;
    const transaction = <T>(work: () => T): T => this.db.transaction(work).immediate();
    const assertions = new AssertionVerifier(this.applications, this.replay, this.clock);
    const clients = new ClientAuthenticator(this.applications, assertions, () => this.issuerUrls.assertionAudiences);
    // Cedar is compiled once here, and the policy set parsed once per change (issue 5 item 1).
    this.policyEngine = new PolicyEngine();
    this.policies = new Policies(this.db, this.policyEngine, this.audit, this.clock);
    const policy = new IssuancePolicy(this.policyEngine, this.resources, this.users);
    const issuance = new Issuance(this.db, this.groupCommit, this.keys, this.audit, this.clock, issuer, policy);
    const release = new SecretRelease(this.groupCommit, new ResourceSecrets(this.db, this.vault), this.audit, policy);
    // Brokered access (issue 5 item 4): openid-client is loaded on first use, never at start.
    this.providers = new Providers(this.db, this.vault, this.clock);
    this.providerAccounts = new ProviderAccounts(this.db, this.vault, this.clock);
    const upstreamClients = new UpstreamClients(this.providers, this.clock);
    const upstreamTokens = new UpstreamTokens(this.providerAccounts, upstreamClients, this.audit, transaction, this.clock, issuer);
    const brokered = new BrokeredRelease(this.groupCommit, this.providers, upstreamTokens, this.audit, policy, this.clock);
    const refusals = new RefusalRecorder(this.audit);
    this.providerConnections = new ProviderConnections(this.db, this.vault, this.providers, this.resources, this.providerAccounts, upstreamClients, this.audit, refusals, transaction, this.clock, issuer);
    const providerAdmin = new ProviderAdmin(this.providers, this.providerAccounts, this.providerConnections, upstreamClients, this.resources, this.users, this.audit, transaction, this.log);
    const userTokens = new UserTokens(this.families, this.resources, this.keys, issuance, brokered, this.clock, issuer);
    const token = new TokenEndpoint([
      new ClientCredentialsGrant(this.applications, this.resources, issuance, release),
      new ApiKeyGrant(this.apiKeys, this.applications, this.resources, issuance, release),
      new JwtBearerGrant(assertions, () => this.issuerUrls.assertionAudiences, this.applications, this.resources, issuance, release),
      new AuthorizationCodeGrant(this.codes, userTokens, this.families, this.consents, this.users, this.audit, transaction, this.clock),
      new CibaGrant(this.approvals, userTokens, this.consents, this.users, this.clock),
      new RefreshTokenGrant(this.families, this.consents, this.users, this.applications, this.resources, this.keys, issuance, brokered, this.audit, transaction, this.clock, issuer),
      new TokenExchangeGrant(
        [
          new AccessTokenSubjects(this.db, this.keys, issuer, this.applications, this.resources, this.users, this.chains, this.families, this.consents, this.clock),
          new SubstituteUserSubjects(this.users, this.consents, this.families, this.policyEngine),
        ],
        this.db, this.keys, assertions, () => this.issuerUrls.assertionAudiences, this.applications, this.resources, issuance, release, brokered, this.clock, issuer),
    ], clients, this.audit, this.agentPause);
    this.authorization = new AuthorizationEndpoint({
      db: this.db, transaction, applications: this.applications, resources: this.resources, users: this.users,
      consents: this.consents, codes: this.codes, audit: this.audit, refusals, clock: this.clock, issuer, policy,
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
      introspection: new IntrospectionEndpoint(this.db, clients, this.keys, this.applications, this.resources, this.users, refusals, this.clock, issuer),
      revocation: new RevocationEndpoint(this.db, clients, this.keys, this.audit, refusals, this.clock, issuer, transaction, this.families, this.chains),
      authorization: this.authorization,
      userinfo: new UserInfoEndpoint(this.db, this.keys, this.applications, this.users, refusals, this.clock, issuer),
      registration: new RegistrationEndpoint(this.applications, this.audit, refusals, transaction,
        new TokenBucket(this.clock, registrationLimits.perMinute, registrationLimits.burst), registrationLimits.maxClients),
      backchannel: new BackchannelAuthenticationEndpoint(clients, this.applications, this.resources, this.users, this.approvals, this.consents, refusals, this.agentPause),
      sessions: this.sessions,
      keys: this.keys,
      refusals,
    });
    registerBrokeredRoutes(this.http, { issuer, connections: this.providerConnections, providers: this.providers, authorization: this.authorization, sessions: this.sessions, refusals });
    registerUi(this.http, options.uiDir === undefined ? findUiDir() : options.uiDir);
    registerUiLogin(this.http, { sessions: this.sessions, audit: this.audit, refusals, transaction });
    registerAdminRoutes(this.http, {
      adminTokenHash: hashSecret(this.adminToken),
      ownOrigin: issuer,
      issuer,
      transaction,
      policies: this.policies,
      policyEngine: this.policyEngine,
      applications: this.applications,
      resources: this.resources,
      users: this.users,
      apiKeys: this.apiKeys,
      audit: this.audit,
      sessions: this.sessions,
      consents: this.consents,
      approvals: this.approvals,
      approvalFeed: this.approvalFeed,
      providers: providerAdmin,
      auditFeed: this.auditFeed,
      grantBackgroundAccess: (request) => transaction(() => grantBackgroundAccess(this, request)),
      withdrawConsent: (id, why) => transaction(() => withdrawConsent(this.consents, this.families, this.audit, id, why)),
      endAccessToRemovedResources: (clientId, resources) => endAccessToRemovedResources(this, clientId, resources),
      deleteApplication: (clientId) => {
        // Its impersonation permit goes with it: a client id freed by deletion must not keep a permission.
        const deleted = transaction(() => {
          const result = deleteApplication(this, clientId);
          this.policies.setImpersonationPermit(clientId, false);
          return result;
        });
        this.policies.reload();
        return deleted;
      },
      vaultStatus: () => this.vaultStatus(),
      runtime: () => ({ dataDir: this.options.dataDir, port: Number(new URL(this.issuer).port), socket: this.socketPath }),
      unlockVault: (passphrase) => this.unlockVault(passphrase),
      lockVault: () => this.lockVault('the admin'),
      agentPause: this.agentPause,
      rotateKeys: () => this.rotateKeys(),
      listKeys: () => this.keys.list(),
    });
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
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
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
    clearInterval(this.sweeper);
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
  async unlock(backend: KeyVault): Promise<void> {
    try {
      await this.vault.unlock(backend);
    } catch (error) {
      if (error instanceof VaultError) {
        // A failed attempt on an open vault (a mistyped passphrase) leaves it open: its keys are loaded.
        if (this.vault.status.state !== 'unlocked') this.vault.markLocked(error.code, error.message);
        this.audit.record({ event: 'vault.unlock_failed', decision: 'deny', reason: error.message });
        if (error.code === 'wrong_passphrase' || error.code === 'backend_mismatch') throw error;
        // The status's message says what happened and what to do; `serve` prints it once.
        this.log.warn(this.vaultStatus().message ?? error.message);
        return;
      }
      throw error;
    }
    try {
      await this.keys.load();
      this.keyProblem = null;
    } catch (error) {
      this.keyProblem = (error as Error).message;
      this.log.error(`${this.keyProblem}; refusing to issue tokens`);
      return;
    }
    // A fresh data dir's ID-token key is still being made: a failure is reported, here and in the status.
    this.keys.whenMade().catch((error: unknown) => {
      this.keyProblem = `the ID-token signing key could not be made (${(error as Error).message}); refusing to issue ID tokens`;
      this.log.error(this.keyProblem);
    });
  }

  /**
   * A one-time link to a UI session for the owner, audited (the shell opens or prints it, as
   * `latchkey login-url` does). Before there is an owner, a first-run link: its session sets the owner up.
   * Null while the owner is disabled.
   */
  loginLink(): { url: string; expiresAt: string; firstRun: boolean } | null {
    const owner = this.users.owner();
    if (owner && !owner.enabled) return null;
    const link = this.db.transaction(() => {
      const created = this.sessions.createLoginLink(owner?.id ?? null);
      this.audit.append({ event: 'ui.login_link_created', decision: 'info', reason: 'admin change', subject: owner?.id ?? null, detail: owner ? null : { first_run: true } });
      return created;
    }).immediate();
    return { url: `${this.issuer}/ui/login?${new URLSearchParams({ token: link.secret })}`, expiresAt: new Date(link.expiresAt).toISOString(), firstRun: owner === null };
  }

  vaultStatus(): VaultStatus {
    const status = this.vault.status;
    if (status.state === 'unlocked') {
      return { state: 'unlocked', backend: status.backend, message: this.keyProblem };
    }
    return {
      state: this.vault.initialized ? 'locked' : 'uninitialized',
      backend: status.backend,
      message: `${status.reason}. ${unlockAdvice(status.backend)}`,
    };
  }

  /**
   * Opens the vault with its passphrase, or, without one, a keychain vault (locked by the user) from its
   * keychain. A passphrase vault without a passphrase is the caller's mistake (DirectoryError, 400).
   */
  async unlockVault(passphrase: string | undefined): Promise<VaultStatus> {
    if (passphrase === undefined && this.vault.backend !== 'keychain') throw new DirectoryError('passphrase is required');
    await this.unlock(passphrase === undefined ? new KeychainKeyVault() : new PassphraseKeyVault(passphrase, this.options.scrypt));
    return this.vaultStatus();
  }

  /**
   * "Lock vault": the master key and the private signing keys (vault items) leave memory, so everything that
   * needs the vault (tokens, vaulted secrets, new keys) fails closed with 503 until it is unlocked again.
   */
  lockVault(by: string): VaultStatus {
    this.vault.lock();
    this.keys.unload();
    this.audit.record({ event: 'vault.locked', decision: 'info', reason: `locked by ${by}` });
    return this.vaultStatus();
  }

  async rotateKeys(): Promise<{ kid: string; retired: string | null }> {
    const keepMs = (Math.max(this.resources.longestLifetimeSeconds(), ID_TOKEN_LIFETIME_SECONDS) + 300) * 1000;
    const result = await this.keys.rotate('access_token', keepMs);
    this.audit.record({ event: 'admin.keys_rotated', decision: 'info', reason: 'admin change', detail: { kid: result.kid, retired: result.retired } });
    return result;
  }

  private async openVault(): Promise<void> {
    const backend = await this.chooseBackend();
    if (backend) await this.unlock(backend);
  }

  private async chooseBackend(): Promise<KeyVault | null> {
    const passphrase = this.options.passphrase;
    if (this.vault.backend === 'passphrase' || (!this.vault.initialized && passphrase)) {
      if (passphrase) return new PassphraseKeyVault(passphrase, this.options.scrypt);
      this.vault.markLocked('locked', 'the vault is protected by a passphrase and none was given');
      this.log.warn(`${this.vaultStatus().message}`);
      return null;
    }
    // An existing keychain vault, or a fresh one: creating its key writes it and reads it back, which is
    // the probe; a keychain that is not there leaves the vault uninitialized and locked, saying so.
    return new KeychainKeyVault();
  }

  /** Forgets what can no longer matter: assertion jtis past expiry, token records a day past expiry. */
  private sweep(): void {
    try {
      const now = epochSeconds(this.clock);
      this.replay.sweep(now);
      this.db.prepare('DELETE FROM issued_tokens WHERE expires_at < ?').run(now - 86_400);
      this.sessions.sweep();
      this.codes.sweep();
      this.families.sweep();
      this.authorization.sweep();
      this.approvals.sweep();
      this.providerConnections.sweep();
    } catch (error) {
      this.log.warn(`sweep failed: ${(error as Error).message}`);
    }
  }
}

function unlockAdvice(backend: 'keychain' | 'passphrase' | null): string {
  if (backend === 'keychain') return 'Latchkey will not issue tokens until the vault is unlocked: unlock it from the app or with `latchkey vault unlock`; if the OS keychain holding its key is unreachable, unlock your login keyring, then restart Latchkey.';
  return 'Latchkey will not issue tokens until the vault is unlocked: run `latchkey vault unlock` (it asks for the passphrase), or start Latchkey with LATCHKEY_VAULT_PASSPHRASE set.';
}
