// What a grant needs around it to be tested alone, at the layer that decides (issue 11 item 10): a real SQLite
// file in a temp dir with the migrations run, a clock the test sets, an unlocked vault, the directory and the
// stores every grant reads, and the request context the token endpoint would build. No broker, no HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TrustLevel } from '../../shared/domain.js';
import { AuditLog, type AuditRecord } from '../../main/core/audit/audit-log.js';
import { Providers } from '../../main/core/brokered/providers.js';
import type { Clock } from '../../main/core/clock.js';
import { Consents } from '../../main/core/consent/consents.js';
import { ApiKeys } from '../../main/core/directory/api-keys.js';
import { Applications, type Application } from '../../main/core/directory/applications.js';
import { ResourceSecrets } from '../../main/core/directory/resource-secrets.js';
import { Resources } from '../../main/core/directory/resources.js';
import { Users } from '../../main/core/directory/users.js';
import { OAuthError } from '../../main/core/oauth/errors.js';
import { Params } from '../../main/core/oauth/params.js';
import { openDatabase, type Db } from '../../main/core/store/database.js';
import type { AuthenticatedClient } from '../../main/core/sts/client-auth.js';
import type { TokenContext } from '../../main/core/sts/grants/grant.js';
import { TargetResolver } from '../../main/core/sts/targets.js';
import type { Issuance } from '../../main/core/tokens/credential-issuer.js';
import { IssuedTokens } from '../../main/core/tokens/issued-tokens.js';
import { SigningKeys } from '../../main/core/tokens/signing-keys.js';
import { TokenFamilies } from '../../main/core/tokens/token-families.js';
import { PassphraseKeyVault } from '../../main/core/vault/passphrase.js';
import { Vault } from '../../main/core/vault/vault.js';
import type { Directory } from './directory-fixtures.js';

export const ISSUER = 'http://127.0.0.1:7777';

/** A clock the test moves by hand (epoch ms). */
export interface TestClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function testClock(start = Date.UTC(2025, 5, 1, 12)): TestClock {
  let now = start;
  return { now: () => now, set: (ms) => { now = ms; }, advance: (ms) => { now += ms; } };
}

export interface Testbed extends Directory {
  /** The SQLite file (its WAL is `${file}-wal`). */
  file: string;
  db: Db;
  clock: TestClock;
  audit: AuditLog;
  vault: Vault;
  targets: TargetResolver;
  issuedTokens: IssuedTokens;
  families: TokenFamilies;
  consents: Consents;
  /** A transaction as the broker runs one (BEGIN IMMEDIATE). */
  transaction: <T>(work: () => T) => T;
  /** The broker's signing keys, made on first use (only tests that mint or verify Latchkey tokens need them). */
  signingKeys(): Promise<SigningKeys>;
  close(): Promise<void>;
}

export async function openTestbed(): Promise<Testbed> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-grant-'));
  const file = join(dir, 'latchkey.db');
  const db = openDatabase(file);
  const clock = testClock();
  const vault = new Vault(db, clock);
  // A cheap scrypt: these tests are not about the KDF.
  await vault.unlock(new PassphraseKeyVault('grant tests passphrase', { N: 2 ** 10, r: 8, p: 1 }));
  const applications = new Applications(db, clock);
  const resources = new Resources(db, clock, new ResourceSecrets(db, vault));
  const users = new Users(db, clock);
  const issuedTokens = new IssuedTokens(db, clock, { applications, users });
  let keys: SigningKeys | undefined;
  return {
    file, db, clock, vault, applications, resources, users,
    audit: new AuditLog(db, clock),
    apiKeys: new ApiKeys(db, clock),
    providers: new Providers(db, vault, clock),
    targets: new TargetResolver(applications, resources),
    issuedTokens,
    families: new TokenFamilies(db, clock, issuedTokens),
    consents: new Consents(db, clock),
    transaction: (work) => db.transaction(work).immediate(),
    async signingKeys() {
      if (!keys) {
        keys = new SigningKeys(db, vault, clock);
        await keys.load();
      }
      return keys;
    },
    async close() {
      // The first ID-token key is made after load() returns: let it land before the file goes.
      await keys?.whenMade().catch(() => {});
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The client as client authentication would have left it (client-auth.ts's trust levels). */
export function authenticated(app: Application, trustLevel?: TrustLevel): AuthenticatedClient {
  const level: TrustLevel = trustLevel ?? (app.authMethod === 'none' ? 'none' : app.authMethod === 'private_key_jwt' ? 'key_bound' : 'shared_secret');
  return { app, method: app.authMethod, trustLevel: level };
}

/** Form parameters as the token endpoint parses them; an array sends a parameter several times. */
export function formParams(values: Record<string, string | readonly string[] | undefined>): Params {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    for (const one of typeof value === 'string' ? [value] : value) form.append(name, one);
  }
  return Params.parse(form.toString());
}

/** The context the token endpoint builds once per request (grant.ts), by hand. */
export function tokenContext(
  client: AuthenticatedClient | Application,
  grantType: string,
  params: Record<string, string | readonly string[] | undefined> | Params,
  options: { now: number; transport?: 'tcp' | 'socket'; issuer?: string },
): TokenContext {
  return {
    client: 'app' in client ? client : authenticated(client),
    grantType,
    params: params instanceof Params ? params : formParams(params),
    transport: options.transport ?? 'tcp',
    now: options.now,
    issuer: options.issuer ?? ISSUER,
  };
}

/** Runs what an issuance spends as the issuer would: first thing inside the durable write. */
export function spendInWrite(db: Db, issuance: Issuance): void {
  db.transaction(() => issuance.spend?.())();
}

/** The OAuthError the work is refused with; fails the test when it succeeds or throws anything else. */
export async function refusal(work: Promise<unknown> | (() => unknown)): Promise<OAuthError> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }
  expect.fail('expected an OAuthError, but the request went through');
}

/** The audit rows of one event, oldest first, with their detail parsed. */
export function auditRows(audit: AuditLog, event: string): Array<AuditRecord & { details: Record<string, unknown> }> {
  return audit.list({ event, limit: 1000 }).reverse().map((row) => ({ ...row, details: row.detail === null ? {} : JSON.parse(row.detail) as Record<string, unknown> }));
}
