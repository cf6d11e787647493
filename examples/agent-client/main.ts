// An agent using Latchkey's client: credentials for a resource from the broker running on this
// machine, cached and renewed before they expire. Run it against a running broker (README, "Agents"):
//
//   LATCHKEY_CLIENT_ID=app_… LATCHKEY_CLIENT_SECRET=… npm run example:agent -- --resource https://notes.local/api
//
// It prints what it got (the claims, never the token) and shows the cache answering a second time.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LatchkeyClient, LatchkeyError, credentialsFromEnv } from '../../client/index.js';

const { values } = parseArgs({ options: { resource: { type: 'string' }, scope: { type: 'string', multiple: true }, 'as-user': { type: 'string' }, 'data-dir': { type: 'string' } } });
if (!values.resource) {
  console.error('usage: npm run example:agent -- --resource URI [--scope S]... [--as-user IDENT] [--data-dir DIR]');
  process.exit(2);
}
// The broker's data dir, as `latchkey` finds it (Linux default shown; macOS and Windows differ: README).
const dataDir = values['data-dir'] ?? process.env.LATCHKEY_DATA_DIR ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Latchkey');

try {
  const client = LatchkeyClient.fromDataDir(dataDir, credentialsFromEnv());
  const request = { resource: values.resource, scope: values.scope ?? [], ...(values['as-user'] ? { asUser: values['as-user'] } : {}) };
  const credential = await client.getToken(request);
  const claims = JSON.parse(Buffer.from(credential.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as Record<string, unknown>;
  console.log(`got a ${credential.tokenType} credential from ${client.address}`);
  console.log(`  aud ${String(claims.aud)}  sub ${String(claims.sub)}  scope ${credential.scope.join(' ') || '(none)'}`);
  console.log(`  expires ${credential.expiresAt === undefined ? 'never said' : new Date(credential.expiresAt).toISOString()}`);
  const again = await client.getToken(request);
  console.log(`asked again: ${again.accessToken === credential.accessToken ? 'the same credential, from the cache' : 'a new credential'}`);
} catch (error) {
  // Typed errors: LatchkeyOAuthError carries `error` and `errorDescription`; no error carries the secret.
  if (error instanceof LatchkeyError) {
    console.error(`agent: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
