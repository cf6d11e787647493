// `npm run example:notes -- [--port 7434] [--issuer http://127.0.0.1:7433]`: runs the notes MCP server
// against a running Latchkey. See README.md next to this file.
import { parseArgs } from 'node:util';
import { startNotesServer } from './server.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '7434' }, issuer: { type: 'string' } } });
const issuer = values.issuer ?? process.env.LATCHKEY_ISSUER ?? 'http://127.0.0.1:7433';

const server = await startNotesServer({ authorizationServer: issuer, port: Number(values.port) });
console.log(`Notes MCP server: ${server.url.href}`);
console.log(`  resource identifier: ${server.resource}`);
console.log(`  protected-resource metadata: ${server.resourceMetadataUrl}`);
console.log(`  authorization server: ${issuer}`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
