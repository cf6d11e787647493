// Our only hand-written JOSE code signs (the hot path); jose, an independent implementation, must accept it.
import { compactVerify, decodeProtectedHeader, exportJWK, importJWK, jwtVerify } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signCompactJws } from '../../main/core/tokens/jws.js';

describe('signCompactJws', () => {
  it('ES256: jose verifies it, and the signature is R || S (64 bytes), not DER (RFC 7518 §3.4)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = signCompactJws({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, { sub: 'client:app_x', aud: 'https://api.example.test/', iat: 1, exp: 4_000_000_000, note: 'ünïcode' }, privateKey);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    expect(Buffer.from(token.split('.')[2]!, 'base64url')).toHaveLength(64);
    const { payload } = await jwtVerify(token, publicKey, { algorithms: ['ES256'], typ: 'at+jwt', audience: 'https://api.example.test/' });
    expect(payload).toMatchObject({ sub: 'client:app_x', note: 'ünïcode' });
    // The same key through a JWK, as a resource server gets it from the JWKS.
    await expect(compactVerify(token, await importJWK(await exportJWK(publicKey), 'ES256'))).resolves.toBeDefined();
  });

  it('RS256: jose verifies it', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = signCompactJws({ alg: 'RS256', kid: 'k2' }, { sub: 'usr_1', iat: 1, exp: 4_000_000_000 }, privateKey);
    await expect(jwtVerify(token, publicKey, { algorithms: ['RS256'] })).resolves.toBeDefined();
  });

  it('a token whose payload was altered after signing does not verify', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const [header, , signature] = signCompactJws({ alg: 'ES256', kid: 'k' }, { scope: 'read', exp: 4_000_000_000 }, privateKey).split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ scope: 'read write admin', exp: 4_000_000_000 })).toString('base64url')}.${signature}`;
    await expect(jwtVerify(forged, publicKey)).rejects.toThrow(/signature/);
  });
});

