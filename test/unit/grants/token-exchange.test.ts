// The token exchange grant alone (RFC 8693): delegation chains (act, delegation depth, the chain's limits,
// the user's consented hops) and impersonation (socket only, under a background-access grant). Subject tokens
// are real Latchkey tokens, minted by the real credential issuer with a policy that allows everything; the
// exchanges under test are decided by the grant alone. No broker, no HTTP.
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GRANT_TYPES, TOKEN_TYPES } from '../../../shared/domain.js';
import type { Application } from '../../../main/core/directory/applications.js';
import type { User } from '../../../main/core/directory/users.js';
import type { PolicyAction } from '../../../main/core/policy/policy-engine.js';
import { GroupCommit } from '../../../main/core/store/group-commit.js';
import { AssertionVerifier } from '../../../main/core/sts/assertions.js';
import { TokenExchangeGrant } from '../../../main/core/sts/grants/token-exchange.js';
import { ReplayGuard } from '../../../main/core/sts/replay-guard.js';
import { AccessTokenSubjects, SubstituteUserSubjects } from '../../../main/core/sts/subject-tokens.js';
import { CredentialIssuer, type Issuance } from '../../../main/core/tokens/credential-issuer.js';
import { LatchkeyTokenKind } from '../../../main/core/tokens/latchkey-token-kind.js';
import { LiveAccessTokens } from '../../../main/core/tokens/live-access-tokens.js';
import { assertionClaims, jwksOf, newClientKey, signAssertion, type ClientKey } from '../../support/client-keys.js';
import { addDependency, createApplication, createOwner, createResource, grantBackground } from '../../support/directory-fixtures.js';
import { ISSUER, openTestbed, refusal, spendInWrite, tokenContext, type Testbed } from '../../support/grant-testbed.js';

const TOKEN_ENDPOINT = `${ISSUER}/oauth2/token`;
/** Served by the notes service. */
const NOTES = 'https://notes.example.test/';
/** Served by the mail service. */
const MAIL = 'https://mail.example.test/';
/** Served by the notes service again: a chain through it can come back to it. */
const ARCHIVE = 'https://archive.example.test/';
/** Served by nobody. */
const STORAGE = 'https://storage.example.test/';
const ALLOW_ALL = { decide: () => ({ decision: 'allow' as const, policies: ['test-permit-all'] }) };

describe('token exchange grant', () => {
  let bed: Testbed;
  let commit: GroupCommit;
  let credentials: CredentialIssuer;
  let grant: TokenExchangeGrant;
  let serviceKey: ClientKey;
  /** Serves NOTES and ARCHIVE; depends on MAIL and STORAGE. */
  let notes: Application;
  /** Serves MAIL; depends on ARCHIVE. */
  let mail: Application;
  /** Calls NOTES autonomously: the chains below start with its tokens. */
  let agent: Application;
  let permitImpersonation: boolean;

  beforeEach(async () => {
    bed = await openTestbed();
    const keys = await bed.signingKeys();
    commit = new GroupCommit(bed.db, `${bed.file}-wal`);
    credentials = new CredentialIssuer([new LatchkeyTokenKind(keys, bed.issuedTokens)], ALLOW_ALL, commit, bed.audit, keys);
    const live = new LiveAccessTokens(keys, bed.issuedTokens);
    permitImpersonation = true;
    grant = new TokenExchangeGrant(
      [
        new AccessTokenSubjects(live, bed.issuedTokens, bed.resources, bed.families, bed.consents),
        new SubstituteUserSubjects(bed.users, bed.consents, bed.families, { mayPermit: () => permitImpersonation }),
      ],
      live, new AssertionVerifier(bed.applications, new ReplayGuard(bed.db), bed.clock), () => [ISSUER, TOKEN_ENDPOINT], bed.applications, bed.targets,
    );

    serviceKey = await newClientKey('ES256');
    notes = createApplication(bed, { name: 'Notes service', grants: [GRANT_TYPES.tokenExchange], jwks: jwksOf(serviceKey) });
    mail = createApplication(bed, { name: 'Mail service', grants: [GRANT_TYPES.tokenExchange] });
    createResource(bed, { identifier: NOTES, scopes: ['read', 'write'], servedBy: notes.clientId });
    createResource(bed, { identifier: MAIL, scopes: ['read', 'send'], servedBy: mail.clientId });
    createResource(bed, { identifier: ARCHIVE, scopes: ['read'], servedBy: notes.clientId });
    createResource(bed, { identifier: STORAGE, scopes: ['read'] });
    addDependency(bed, notes.clientId, MAIL);
    notes = addDependency(bed, notes.clientId, STORAGE);
    mail = addDependency(bed, mail.clientId, ARCHIVE);
    agent = createApplication(bed, { name: 'Agent', dependencies: [NOTES] });
  });
  afterEach(async () => {
    commit.close();
    await bed.close();
  });

  const now = (): number => bed.clock.now();
  /** A token issued by the real issuer, as the token endpoint would issue it. */
  async function issued(client: Application, issuance: Omit<Issuance, 'resource'> & { resource: string }, grantType: string = GRANT_TYPES.clientCredentials): Promise<string> {
    const context = tokenContext(client, grantType, {}, { now: now() });
    return (await credentials.issue(context, { ...issuance, resource: bed.resources.get(issuance.resource)! })).access_token;
  }
  const agentToken = (client: Application = agent): Promise<string> =>
    issued(client, { resource: NOTES, scopes: ['read', 'write'], subject: `client:${client.clientId}`, userId: null, policyAction: 'autonomous' });
  const exchangeContext = (requester: Application, params: Record<string, string | undefined>, transport: 'tcp' | 'socket' = 'tcp') =>
    tokenContext(requester, GRANT_TYPES.tokenExchange, params, { now: now(), transport });
  const exchange = (requester: Application, subjectToken: string, target: string, extra: Record<string, string | undefined> = {}) =>
    grant.handle(exchangeContext(requester, { subject_token: subjectToken, subject_token_type: TOKEN_TYPES.accessToken, resource: target, ...extra }));
  /** An exchange carried through to a token by the real issuer: the next hop's subject token. */
  async function exchanged(requester: Application, subjectToken: string, target: string): Promise<string> {
    const context = exchangeContext(requester, { subject_token: subjectToken, subject_token_type: TOKEN_TYPES.accessToken, resource: target });
    return (await credentials.issue(context, await grant.handle(context))).access_token;
  }

  describe('delegation chains', () => {
    it('a token addressed to the requester buys one for its dependency, for the same subject, with act naming the requester at depth 1', async () => {
      const subjectToken = await agentToken();
      const subject = decodeJwt(subjectToken);
      const issuance = await exchange(notes, subjectToken, MAIL);
      expect(issuance.resource.identifier).toBe(MAIL);
      expect(issuance.scopes).toEqual(['read', 'send']);
      expect(issuance.subject).toBe(`client:${agent.clientId}`);
      expect(issuance.userId).toBeNull();
      expect(issuance.policyAction).toBe<PolicyAction>('delegation_chain');
      expect(issuance.chain).toEqual({
        act: { sub: `client:${notes.clientId}`, client_id: notes.clientId },
        delegationDepth: 1,
        parentJti: subject.jti,
        notAfter: subject.exp,
        requestedTokenType: undefined,
      });
      expect(issuance.family).toBeUndefined();
      expect(issuance.audit?.detail).toEqual({
        subject: `client:${agent.clientId}`, origin_client_id: agent.clientId, subject_client_id: agent.clientId, actors: [notes.clientId],
        parent_jti: subject.jti, delegation_depth: 1, subject_token_type: TOKEN_TYPES.accessToken, actor_token_type: null,
      });
      expect(issuance.audit?.refusal).toMatchObject({ requester: notes.clientId, delegation_depth: 1 });
    });

    it('the next exchange nests act with the most recent actor outermost, and remembers where the chain began', async () => {
      const hop1 = await exchanged(notes, await agentToken(), MAIL);
      const issuance = await exchange(mail, hop1, ARCHIVE);
      expect(issuance.subject).toBe(`client:${agent.clientId}`);
      expect(issuance.chain?.act).toEqual({ sub: `client:${mail.clientId}`, client_id: mail.clientId, act: { sub: `client:${notes.clientId}`, client_id: notes.clientId } });
      expect(issuance.chain?.delegationDepth).toBe(2);
      expect(issuance.chain?.parentJti).toBe(decodeJwt(hop1).jti);
      expect(issuance.audit?.detail).toMatchObject({ origin_client_id: agent.clientId, subject_client_id: notes.clientId, actors: [mail.clientId, notes.clientId] });
    });

    it('a requester that already acts in the chain is invalid_request (a repeated actor), and the refusal names the chain', async () => {
      const hop1 = await exchanged(notes, await agentToken(), MAIL);
      const hop2 = await exchanged(mail, hop1, ARCHIVE);
      const error = await refusal(exchange(notes, hop2, STORAGE));
      expect(error.error).toBe('invalid_request');
      expect(error.reason).toBe('repeated actor');
      expect(error.auditDetail).toMatchObject({ requester: notes.clientId, actors: [mail.clientId, notes.clientId], delegation_depth: 3, origin_client_id: agent.clientId });
    });

    it('a chain longer than the strictest max_delegation_depth of its applications is invalid_request', async () => {
      const inbox = 'https://inbox.example.test/';
      const strict = createApplication(bed, { name: 'Strict inbox service', grants: [GRANT_TYPES.tokenExchange], maxDelegationDepth: 1 });
      createResource(bed, { identifier: inbox, scopes: ['read'], servedBy: strict.clientId });
      addDependency(bed, notes.clientId, inbox);
      const withArchive = addDependency(bed, strict.clientId, ARCHIVE);
      const hop1 = await exchanged(notes, await agentToken(), inbox);
      const error = await refusal(exchange(withArchive, hop1, ARCHIVE));
      expect(error.error).toBe('invalid_request');
      expect(error.reason).toBe('delegation depth 2 over the limit 1');
      // The same hop for a requester without that limit goes through.
      expect((await exchange(mail, await exchanged(notes, await agentToken(), MAIL), ARCHIVE)).chain?.delegationDepth).toBe(2);
    });

    it('the application the chain began with limits it too, however many hops later (its part may not be passed on further)', async () => {
      const cautious = createApplication(bed, { name: 'Cautious agent', dependencies: [NOTES], maxDelegationDepth: 1 });
      const hop1 = await exchanged(notes, await agentToken(cautious), MAIL);
      // hop 2: mail's token, from a chain the cautious agent began; its limit of one exchange holds here too.
      const error = await refusal(exchange(mail, hop1, ARCHIVE));
      expect(error.error).toBe('invalid_request');
      expect(error.reason).toBe('delegation depth 2 over the limit 1');
      expect(error.auditDetail).toMatchObject({ origin_client_id: cautious.clientId, delegation_depth: 2 });
    });

    it('a target that is not a dependency of the requester is invalid_target', async () => {
      const error = await refusal(exchange(notes, await agentToken(), ARCHIVE));
      expect(error.error).toBe('invalid_target');
      expect(error.auditDetail).toMatchObject({ requester: notes.clientId, delegation_depth: 1, origin_client_id: agent.clientId });
    });

    it('a scope beyond the target\'s and the requester\'s is invalid_scope, never a silent narrowing', async () => {
      const error = await refusal(exchange(notes, await agentToken(), MAIL, { scope: 'read delete' }));
      expect(error.error).toBe('invalid_scope');
      expect((await exchange(notes, await agentToken(), MAIL, { scope: 'send' })).scopes).toEqual(['send']);
    });

    it('a subject token not addressed to the requester (it does not serve its audience) is invalid_request', async () => {
      const error = await refusal(exchange(mail, await agentToken(), ARCHIVE));
      expect(error.error).toBe('invalid_request');
      expect(error.reason).toMatch(/not addressed to the requester/);
    });

    it('a revoked subject token is invalid_request, and so is one that is not a Latchkey access token at all', async () => {
      const subjectToken = await agentToken();
      bed.transaction(() => bed.issuedTokens.revokeWithDerived(decodeJwt(subjectToken).jti!, Math.floor(now() / 1000)));
      expect((await refusal(exchange(notes, subjectToken, MAIL))).reason).toBe('subject token is revoked');
      expect((await refusal(exchange(notes, 'not-a-token', MAIL))).error).toBe('invalid_request');
    });

    it('an expired subject token is invalid_request', async () => {
      const subjectToken = await agentToken();
      bed.clock.advance(601_000);
      expect((await refusal(exchange(notes, subjectToken, MAIL))).error).toBe('invalid_request');
    });

    it('passes the requested_token_type on to the issuer, and refuses one no kind issues (invalid_request)', async () => {
      const subjectToken = await agentToken();
      expect((await exchange(notes, subjectToken, MAIL, { requested_token_type: TOKEN_TYPES.accessToken })).chain?.requestedTokenType).toBe(TOKEN_TYPES.accessToken);
      expect((await refusal(exchange(notes, subjectToken, MAIL, { requested_token_type: TOKEN_TYPES.idToken }))).error).toBe('invalid_request');
    });

    it('an actor_token without its actor_token_type is invalid_request (RFC 8693 §2.1)', async () => {
      expect((await refusal(exchange(notes, await agentToken(), MAIL, { actor_token: 'whatever' }))).error).toBe('invalid_request');
    });

    it('an actor assertion is the requester\'s own and its jti is spent once, in the write', async () => {
      const nowSeconds = Math.floor(now() / 1000);
      const actor = await signAssertion(serviceKey, assertionClaims(notes.clientId, TOKEN_ENDPOINT, { iat: nowSeconds, exp: nowSeconds + 60 }));
      const first = await exchange(notes, await agentToken(), MAIL, { actor_token: actor, actor_token_type: TOKEN_TYPES.jwt });
      expect(first.audit?.detail).toMatchObject({ actor_token_type: TOKEN_TYPES.jwt });
      spendInWrite(bed.db, first);
      const again = await exchange(notes, await agentToken(), MAIL, { actor_token: actor, actor_token_type: TOKEN_TYPES.jwt });
      const error = await refusal(() => spendInWrite(bed.db, again));
      expect(error.error).toBe('invalid_request');
      expect(error.reason).toBe('actor assertion: assertion jti was used before (replay)');
    });

    it('an actor access token of another client than the requester is invalid_request', async () => {
      const error = await refusal(exchange(notes, await agentToken(), MAIL, { actor_token: await agentToken(), actor_token_type: TOKEN_TYPES.accessToken }));
      expect(error.error).toBe('invalid_request');
      expect(error.reason).toBe('actor token belongs to another client');
    });
  });

  describe('a user\'s chain', () => {
    let user: User;
    let desktop: Application;
    let consentId: string;
    let familyId: string;

    beforeEach(() => {
      user = createOwner(bed);
      desktop = createApplication(bed, { name: 'Desktop app', authMethod: 'none', grants: [GRANT_TYPES.authorizationCode], redirectUris: ['http://127.0.0.1:9999/cb'], dependencies: [NOTES] });
      // The user approved the desktop app reaching the notes, and the notes service reaching mail for reading only.
      consentId = bed.consents.record(user.id, desktop.clientId, [NOTES], ['read', 'write'], false, [{ depth: 1, clientId: notes.clientId, resource: MAIL, scopes: ['read'] }]).id;
      familyId = bed.families.newId();
      bed.transaction(() => bed.families.create(familyId, { clientId: desktop.clientId, userId: user.id, consentId, scopes: ['read', 'write'], resources: [NOTES], authTime: now() }));
    });
    const userToken = (): Promise<string> =>
      issued(desktop, { resource: NOTES, scopes: ['read', 'write'], subject: user.id, userId: user.id, policyAction: 'user_delegation', family: { id: familyId } }, GRANT_TYPES.authorizationCode);

    it('a hop the consent covers acts for the user, with no more than the scopes the user gave that hop', async () => {
      const issuance = await exchange(notes, await userToken(), MAIL);
      expect(issuance.subject).toBe(user.id);
      expect(issuance.userId).toBe(user.id);
      expect(issuance.scopes).toEqual(['read']);
      expect((await refusal(exchange(notes, await userToken(), MAIL, { scope: 'send' }))).error).toBe('invalid_scope');
    });

    it('a hop outside the user\'s consent is interaction_required', async () => {
      const error = await refusal(exchange(notes, await userToken(), STORAGE));
      expect(error.error).toBe('interaction_required');
      expect(error.reason).toBe('hop outside the consented downstream tree');
    });

    it('once the consent behind the chain is withdrawn, its tokens buy nothing (invalid_request)', async () => {
      const subjectToken = await userToken();
      bed.consents.revoke(consentId);
      expect((await refusal(exchange(notes, subjectToken, MAIL))).reason).toBe('the authorization behind the subject token has ended');
    });
  });

  describe('impersonation', () => {
    let user: User;
    /** An implicit-consent application that may act for the user in the background. */
    let worker: Application;

    beforeEach(() => {
      user = createOwner(bed, { email: 'ada@example.test' });
      worker = createApplication(bed, { name: 'Background worker', grants: [GRANT_TYPES.tokenExchange], consentMode: 'implicit', dependencies: [MAIL] });
    });
    const impersonate = (transport: 'tcp' | 'socket', subject = 'ada@example.test', client: Application = worker) =>
      grant.handle(exchangeContext(client, { subject_token: subject, subject_token_type: TOKEN_TYPES.substituteUser, resource: MAIL }, transport));

    it('off the local socket it is invalid_request, whatever else holds', async () => {
      grantBackground(bed, { clientId: worker.clientId, resources: [MAIL] });
      const error = await refusal(impersonate('tcp'));
      expect(error.error).toBe('invalid_request');
      expect(error.auditDetail).toEqual({ impersonation: true, condition: 'socket' });
    });

    it('without the user\'s background-access grant for the target it is access_denied', async () => {
      const error = await refusal(impersonate('socket'));
      expect(error.error).toBe('access_denied');
      expect(error.auditDetail).toMatchObject({ impersonation: true, condition: 'background_grant', requester: worker.clientId, subject: user.id });
    });

    it('under a background-access grant it acts for the user, joins the grant\'s family, within the grant\'s scopes', async () => {
      const background = grantBackground(bed, { clientId: worker.clientId, resources: [MAIL], scopes: ['read'] });
      const [backgroundFamily] = bed.families.liveFamiliesOf(background.id);
      const issuance = await impersonate('socket', user.id);
      expect(issuance.subject).toBe(user.id);
      expect(issuance.userId).toBe(user.id);
      expect(issuance.policyAction).toBe<PolicyAction>('impersonation');
      expect(issuance.scopes).toEqual(['read']);
      expect(issuance.family).toEqual({ id: backgroundFamily });
      expect(issuance.chain).toMatchObject({ act: { sub: `client:${worker.clientId}`, client_id: worker.clientId }, delegationDepth: 1, parentJti: null });
      expect(issuance.audit?.reason).toMatch(/^impersonation/);
      expect(issuance.audit?.detail).toMatchObject({ impersonation: true, background_grant: background.id });
    });

    it('a grant withdrawn between the decision and the write issues nothing (access_denied)', async () => {
      const background = grantBackground(bed, { clientId: worker.clientId, resources: [MAIL] });
      const issuance = await impersonate('socket');
      bed.consents.revoke(background.id);
      const error = await refusal(() => spendInWrite(bed.db, issuance));
      expect(error.error).toBe('access_denied');
      expect(error.reason).toBe('impersonation refused: background-access grant withdrawn meanwhile');
    });

    it('an application no policy permits to impersonate is unauthorized_client, before any user is looked up', async () => {
      permitImpersonation = false;
      const known = await refusal(impersonate('socket'));
      const unknown = await refusal(impersonate('socket', 'nobody@example.test'));
      expect([known.error, unknown.error]).toEqual(['unauthorized_client', 'unauthorized_client']);
      expect(known.auditDetail).toEqual({ impersonation: true, condition: 'permitted' });
    });

    it('an application whose consent mode is not implicit is unauthorized_client', async () => {
      const explicit = createApplication(bed, { name: 'Asks first', grants: [GRANT_TYPES.tokenExchange], dependencies: [MAIL] });
      expect((await refusal(impersonate('socket', 'ada@example.test', explicit))).auditDetail).toEqual({ impersonation: true, condition: 'implicit_consent' });
    });

    it('an unknown user is invalid_request', async () => {
      const error = await refusal(impersonate('socket', 'nobody@example.test'));
      expect(error.error).toBe('invalid_request');
      expect(error.auditDetail).toEqual({ impersonation: true, condition: 'user' });
    });
  });
});
