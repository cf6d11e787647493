// Token revocation (RFC 7009): a client revokes its own tokens; an unknown token is a 200; another
// client's token is refused and stays active; a revocation that cannot be stored is a 503, never a 200.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, registerService, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { auditHead, auditSince, expectNoCors, expectRefused, expectUnchanged, snapshot } from '../support/refusals.js';

describe('revocation', () => {
  let test: TestBroker;
  let revokeUrl: string;
  let client: Service;
  let other: Service;

  beforeAll(async () => {
    test = await startBroker();
    revokeUrl = `${test.issuer}/oauth2/token/revoke`;
    client = await registerService(test);
    other = await registerService(test, { resource: client.resource });
  });
  afterAll(() => test.close());

  const issue = async (service: Service = client): Promise<string> => {
    const result = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
    expect(result.status).toBe(200);
    return result.body.access_token;
  };
  const revoke = (token: string, as: Service = client, extra: Record<string, string | string[]> = {}) =>
    postForm(revokeUrl, { token, ...extra }, { basic: [as.clientId, as.clientSecret] });
  const isActive = async (token: string, as: Service = client): Promise<boolean> =>
    (await postForm(`${test.issuer}/oauth2/token/introspect`, { token }, { basic: [as.clientId, as.clientSecret] })).body.active;

  it('revokes a token at its client\'s request: 200, inactive afterwards, audited as token.revoked', async () => {
    const token = await issue();
    const { jti } = decodeJwt(token);
    expect(await isActive(token)).toBe(true);
    const head = auditHead(test);
    const result = await revoke(token);
    expect(result.status).toBe(200);
    expect(result.headers.get('cache-control')).toBe('no-store');
    expectNoCors(result.headers);
    expect(result.text).not.toContain(token);
    expect(await isActive(token)).toBe(false);
    expect(count(test, 'issued_tokens', 'jti = ? AND revoked_at IS NOT NULL', jti)).toBe(1);
    expect(auditSince(test, head)).toMatchObject([{ event: 'token.revoked', decision: 'info', client_id: client.clientId, jti }]);
  });

  it('accepts a client_secret_post client and a token_type_hint that is only a hint (RFC 7009 §2.1)', async () => {
    const token = await issue();
    const result = await postForm(revokeUrl, { token, token_type_hint: 'refresh_token', client_id: client.clientId, client_secret: client.clientSecret });
    expect(result.status).toBe(200);
    expect(await isActive(token)).toBe(false);
  });

  it('answers a second revocation of the same token with 200 and records it once', async () => {
    const token = await issue();
    expect((await revoke(token)).status).toBe(200);
    const before = snapshot(test);
    expect((await revoke(token)).status).toBe(200);
    expectUnchanged(test, before);
    expect(count(test, 'audit_log', "event = 'token.revoked' AND jti = ?", decodeJwt(token).jti)).toBe(1);
  });

  it('answers an unknown or invalid token with 200 and changes nothing (RFC 7009 §2.2)', async () => {
    const token = await issue();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(token), jti: 'never-issued' })).toString('base64url')}.${signature}`;
    for (const unknown of ['not-a-token', forged, `${header}.${payload}.`]) {
      const before = snapshot(test);
      const result = await revoke(unknown);
      expect(result.status).toBe(200);
      expectUnchanged(test, before);
    }
    expect(await isActive(token)).toBe(true);
  });

  it('refuses to revoke another client\'s token, which stays active', async () => {
    const token = await issue();
    const result = await expectRefused(test, () => revoke(token, other), { status: 400, error: 'invalid_request', secrets: [token, other.clientSecret] });
    expect(result.body.error_description).toBeDefined();
    expect(await isActive(token)).toBe(true);
    const refusals = test.broker.db.prepare("SELECT * FROM audit_log WHERE event = 'token.revocation_refused' AND jti = ?").all(decodeJwt(token).jti);
    expect(refusals).toMatchObject([{ decision: 'deny', client_id: other.clientId }]);
  });

  it('refuses a public client revoking a confidential client\'s token', async () => {
    const token = await issue();
    const pub = await test.admin('POST', '/applications', { name: 'Public', auth_method: 'none' });
    expect(pub.status).toBe(201);
    await expectRefused(test, () => postForm(revokeUrl, { token, client_id: pub.body.client_id }), { status: 400, error: 'invalid_request', secrets: [token] });
    expect(await isActive(token)).toBe(true);
  });

  it('refuses a request without client authentication with 401 invalid_client', async () => {
    const token = await issue();
    await expectRefused(test, () => postForm(revokeUrl, { token }), { status: 401, error: 'invalid_client', secrets: [token] });
    const wrong = await expectRefused(test, () => postForm(revokeUrl, { token }, { basic: [client.clientId, 'not-the-secret'] }), { status: 401, error: 'invalid_client', secrets: [token, 'not-the-secret'] });
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(await isActive(token)).toBe(true);
  });

  it('refuses a missing or duplicated token parameter with invalid_request', async () => {
    const token = await issue();
    await expectRefused(test, () => postForm(revokeUrl, {}, { basic: [client.clientId, client.clientSecret] }), { status: 400, error: 'invalid_request', secrets: [client.clientSecret] });
    await expectRefused(test, () => revoke(token, client, { token: [token, token] }), { status: 400, error: 'invalid_request', secrets: [token] });
    expect(await isActive(token)).toBe(true);
  });

  it('answers 503 temporarily_unavailable, never 200, when the revocation cannot be stored', async () => {
    const token = await issue();
    test.broker.db.exec("CREATE TEMP TRIGGER revocation_unwritable BEFORE UPDATE ON issued_tokens BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    try {
      const result = await expectRefused(test, () => revoke(token), { status: 503, error: 'temporarily_unavailable', secrets: [token, client.clientSecret] });
      expect(result.text).not.toContain('disk says no');
    } finally {
      test.broker.db.exec('DROP TRIGGER temp.revocation_unwritable');
    }
    expect(await isActive(token)).toBe(true);
    expect(count(test, 'audit_log', "event = 'token.revoked' AND jti = ?", decodeJwt(token).jti)).toBe(0);
    // Once storage works again, the same request succeeds.
    expect((await revoke(token)).status).toBe(200);
    expect(await isActive(token)).toBe(false);
  });

  it('answers 503 when the revocation\'s audit row cannot be written, and the token stays active', async () => {
    const token = await issue();
    test.broker.db.exec("CREATE TEMP TRIGGER audit_unwritable BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    let status: number;
    try {
      status = (await revoke(token)).status;
    } finally {
      test.broker.db.exec('DROP TRIGGER temp.audit_unwritable');
    }
    expect(status).toBe(503);
    expect(await isActive(token)).toBe(true);
  });
});
