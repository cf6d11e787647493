import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The layering of STYLE.md is enforced by lint; these prove the rule fires where it must and only there.
const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return result!.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
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
