// Boundaries are checked, not hoped for (STYLE.md): the broker core runs in plain Node and never
// imports Electron; the renderer runs in a browser and never imports Node; shared/ imports neither.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import coreLayers from './scripts/eslint/core-layers.js';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'module', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream',
  'timers', 'tls', 'tty', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];
const nodeOnlyPackages = ['better-sqlite3', '@napi-rs/keyring', '@napi-rs/keyring/keytar', 'fastify'];

const noElectron = { name: 'electron', message: 'only main/app imports electron: main/core runs in plain Node, shared/ and renderer/ in a browser too.' };
const noNode = [
  ...nodeBuiltins.map((name) => ({ name, message: 'renderer/ and shared/ run in a browser too: no Node built-ins.' })),
  ...nodeOnlyPackages.map((name) => ({ name, message: 'renderer/ and shared/ run in a browser too: no Node-only packages.' })),
];
/** Shell modules without Electron, unit-tested under Node (test/unit/app). */
const pureShellModules = ['main/app/prompt-queue.ts', 'main/app/sender-validation.ts', 'main/app/external-links.ts', 'main/app/content-security-policy.ts', 'main/app/app-routes.ts', 'main/app/tray-menu.ts'];
const noExamples = { group: ['**/examples/**'], message: 'Latchkey itself never depends on an example.' };
const noNodePrefix = { group: ['node:*'], message: 'renderer/ and shared/ run in a browser too: no Node built-ins.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', 'renderer/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', URLSearchParams: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', performance: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Tests read untyped JSON responses; `any` there is the honest type.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['main/core/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron], patterns: [noExamples] }] },
  },
  {
    // Layers inside main/core, bottom to top: see scripts/eslint/core-layers.js.
    files: ['main/core/**'],
    plugins: { latchkey: coreLayers },
    rules: {
      'latchkey/core-layers': 'error',
    },
  },
  {
    files: ['main/cli/**', 'main/app/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noExamples] }] },
  },
  {
    // The shell's pure parts are tested under plain Node, where there is no Electron: they never import it.
    files: pureShellModules,
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'a pure part of the shell (tested under Node) never imports electron.' }], patterns: [noExamples] }] },
  },
  {
    // The consent window's page runs in a sandboxed renderer: a browser, no Node, no Electron (only IPC, through the preload).
    files: ['main/app/prompt/**'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', HTMLElement: 'readonly', HTMLButtonElement: 'readonly', KeyboardEvent: 'readonly' } },
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron, ...noNode], patterns: [noNodePrefix, noExamples, { regex: '^(\\.\\./)+(core|cli)/', message: 'the consent page talks to main over IPC only.' }] }] },
  },
  {
    // The agent client is what agents import: it speaks OAuth to the broker and shares only the
    // vocabulary (shared/domain.ts), never the broker's, the CLI's or the shell's code.
    files: ['client/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron], patterns: [noExamples, { regex: '^(\\.\\./)+main/', message: 'client/ is imported by agents: it talks to the broker over its socket or HTTP, never imports main/.' }] }] },
  },
  {
    files: ['shared/**', 'renderer/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron, ...noNode], patterns: [noNodePrefix, noExamples] }] },
  },
  {
    // An example resource server talks to Latchkey over HTTP, as any other would: it imports none of it.
    files: ['examples/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+(main|shared)/', message: 'examples/ use Latchkey over HTTP only: no imports from main/ or shared/.' }] }] },
  },
);
