import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The layering of STYLE.md is enforced by lint; these prove the rule fires where it must and only there.
const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return result!.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

async function layerViolations(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return result!.messages.filter((message) => message.ruleId === 'latchkey/core-layers').map((message) => message.message);
}

describe('module boundaries', () => {
  it('main/core may not import electron', async () => {
    expect(await restrictedImports('main/core/sts/leak.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
  });

  it('the renderer may not import Node built-ins or Node-only packages', async () => {
    expect(await restrictedImports('renderer/src/leak.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n")).toHaveLength(1);
    expect(await restrictedImports('renderer/src/leak.ts', "import path from 'path';\nexport const x = path;\n")).toHaveLength(1);
    expect(await restrictedImports('renderer/src/leak.ts', "import Database from 'better-sqlite3';\nexport const x = Database;\n")).toHaveLength(1);
  });

  it('shared/ may import neither Node nor Electron', async () => {
    expect(await restrictedImports('shared/leak.ts', "import { createHash } from 'node:crypto';\nexport const x = createHash;\n")).toHaveLength(1);
    expect(await restrictedImports('shared/leak.ts', "import { ipcMain } from 'electron';\nexport const x = ipcMain;\n")).toHaveLength(1);
  });

  it('Latchkey never imports an example, and an example resource server imports nothing of Latchkey', async () => {
    expect(await restrictedImports('main/core/sts/leak.ts', "import { startNotesServer } from '../../../examples/notes-mcp-server/server.js';\nexport const x = startNotesServer;\n")).toHaveLength(1);
    expect(await restrictedImports('main/cli/leak.ts', "import { startNotesServer } from '../../examples/notes-mcp-server/server.js';\nexport const x = startNotesServer;\n")).toHaveLength(1);
    expect(await restrictedImports('examples/notes-mcp-server/leak.ts', "import { Broker } from '../../main/core/broker.js';\nexport const x = Broker;\n")).toHaveLength(1);
    expect(await restrictedImports('examples/notes-mcp-server/leak.ts', "import { GRANT_TYPES } from '../../shared/domain.js';\nexport const x = GRANT_TYPES;\n")).toHaveLength(1);
    expect(await restrictedImports('examples/notes-mcp-server/ok.ts', "import { OAuthMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';\nexport const x = OAuthMetadataSchema;\n")).toHaveLength(0);
  });

  it('the agent client imports nothing of main/ (agents import it; it talks to the broker over the wire) but may use shared/', async () => {
    expect(await restrictedImports('client/leak.ts', "import { Broker } from '../main/core/broker.js';\nexport const x = Broker;\n")).toHaveLength(1);
    expect(await restrictedImports('client/leak.ts', "import { CliError } from '../main/cli/cli-error.js';\nexport const x = CliError;\n")).toHaveLength(1);
    expect(await restrictedImports('client/leak.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await restrictedImports('client/ok.ts', "import { GRANT_TYPES } from '../shared/domain.js';\nexport const x = GRANT_TYPES;\n")).toHaveLength(0);
  });

  it('the Electron shell may import electron, and core may import Node', async () => {
    expect(await restrictedImports('main/app/window.main.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(0);
    expect(await restrictedImports('main/core/x.ts', "import { createHash } from 'node:crypto';\nexport const x = createHash;\n")).toHaveLength(0);
  });

  it('the shell\'s pure parts (tested under Node) may not import electron; the consent page imports neither Node nor Electron nor core', async () => {
    expect(await restrictedImports('main/app/prompt-queue.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await restrictedImports('main/app/sender-validation.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await restrictedImports('main/app/prompt/prompt-page.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n")).toHaveLength(1);
    expect(await restrictedImports('main/app/prompt/prompt-page.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n")).toHaveLength(1);
    expect(await restrictedImports('main/app/prompt/prompt-page.ts', "import { Broker } from '../../core/broker.js';\nexport const x = Broker;\n")).toHaveLength(1);
    expect(await restrictedImports('main/app/prompt/prompt-page.ts', "import type { ConsentPrompt } from '../../../shared/ipc.js';\nexport type X = ConsentPrompt;\n")).toHaveLength(0);
  });
});

describe('layers inside main/core', () => {
  it('a lower layer may not import a higher one, and the message names both layers', async () => {
    expect(await layerViolations('main/core/tokens/x.ts', "import { TokenExchangeGrant } from '../sts/grants/token-exchange.js';\nexport const x = TokenExchangeGrant;\n"))
      .toEqual(['main/core layers: tokens may not import sts, a higher layer.']);
    expect(await layerViolations('main/core/directory/x.ts', "import { ConsentStore } from '../consent/consents.js';\nexport const x = ConsentStore;\n"))
      .toEqual(['main/core layers: directory may not import consent, a higher layer.']);
    expect(await layerViolations('main/core/store/x.ts', "export { Vault } from '../vault/vault.js';\n")).toHaveLength(1);
    expect(await layerViolations('main/core/clock.ts', "export * from './transport/http-app.js';\n")).toHaveLength(1);
    expect(await layerViolations('main/core/ui/x.ts', "import { Broker } from '../broker.js';\nexport const x = Broker;\n")).toHaveLength(1);
  });

  it('a type-only import of a higher layer is refused too', async () => {
    expect(await layerViolations('main/core/vault/x.ts', "import type { Users } from '../directory/users.js';\nexport type X = Users;\n"))
      .toEqual(['main/core layers: vault may not import directory, a higher layer.']);
  });

  it('a module may import its own layer, a lower one, shared/ and packages', async () => {
    const source = [
      "import type { TokenFamilies } from './token-families.js';",
      "import { OAuthError } from '../oauth/errors.js';",
      "import { AuditLog } from '../audit/audit-log.js';",
      "import type { Clock } from '../clock.js';",
      "import { GRANT_TYPES } from '../../../shared/domain.js';",
      "import { SignJWT } from 'jose';",
      'export const x = [OAuthError, AuditLog, GRANT_TYPES, SignJWT];',
      'export type X = TokenFamilies | Clock;',
    ].join('\n');
    expect(await layerViolations('main/core/tokens/x.ts', source)).toHaveLength(0);
    expect(await layerViolations('main/core/broker.ts', "import { StsRoutes } from './sts/routes.js';\nexport const x = StsRoutes;\n")).toHaveLength(0);
    expect(await layerViolations('main/core/store/migrations/010-x.ts', "import type { Db } from '../database.js';\nexport type X = Db;\n")).toHaveLength(0);
  });

  it('a folder without a place in the order is reported, so a new layer is placed on purpose', async () => {
    expect(await layerViolations('main/core/gateway/x.ts', "import { OAuthError } from '../oauth/errors.js';\nexport const x = OAuthError;\n"))
      .toEqual(['main/core layers: "gateway" has no place in the layer order; give it one in scripts/eslint/core-layers.js.']);
  });
});
