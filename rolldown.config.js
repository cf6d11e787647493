// The `latchkey` command as one bundle (bin/latchkey.js runs it), built from tsc's output in dist/main.
// Node 20 resolves, reads and compiles every ES module on its own: the ~340 modules the broker loads
// (zod, jose, fastify and ours) cost more at start than everything the broker then does.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'rolldown';

const cli = {
  input: 'dist/main/cli/latchkey.js',
  platform: 'node',
  external: [
    // Native addons: loaded from node_modules as they are.
    /^better-sqlite3(\/|$)/,
    /^@napi-rs\//,
    // Cedar's wasm build reads its .wasm file beside itself (policy/policy-engine.ts requires it at start).
    /^@cedar-policy\//,
    // What fastify requires only for what Latchkey does not use (route schemas, its logger, inject()):
    // kept out, so never parsed at start; node_modules still has them.
    '@fastify/ajv-compiler',
    '@fastify/fast-json-stringify-compiler',
    'pino',
    'light-my-request',
  ],
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    sourcemap: true,
    cleanDir: true,
  },
};

// The desktop shell's two browser-side pieces (tsc compiles the rest of main/app to dist/main/app):
// the preload, one CommonJS file because a sandboxed preload cannot load modules, and the consent
// window's page with its HTML and CSS beside it.
const preload = {
  input: 'main/app/preload.ts',
  platform: 'node',
  external: ['electron'],
  output: { file: 'dist/main/app/preload.cjs', format: 'cjs' },
};

const promptPage = {
  input: 'main/app/prompt/prompt-page.ts',
  platform: 'browser',
  output: { file: 'dist/main/app/prompt/prompt-page.js', format: 'iife' },
  plugins: [{
    name: 'prompt-page-files',
    generateBundle() {
      for (const fileName of ['prompt.html', 'prompt.css']) this.emitFile({ type: 'asset', fileName, source: readFileSync(`main/app/prompt/${fileName}`) });
    },
  }],
};

export default defineConfig([cli, preload, promptPage]);
