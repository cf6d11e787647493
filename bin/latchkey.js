#!/usr/bin/env node
// The `latchkey` command: runs the compiled CLI (npm install builds it; `npm run build` rebuilds it).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main/cli/latchkey.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('latchkey: not built yet; run `npm install` (or `npm run build`) in the repository first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
if (process.argv[2] !== 'serve' || code !== 0) process.exitCode = code;
