#!/usr/bin/env node
// The `latchkey` command: runs the bundled CLI (`npm run build` builds it; `npm start` does too).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bundle/latchkey.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('latchkey: not built yet; run `npm run build` (or `npm start`) in the repository first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// `serve` keeps running after main() returns; only a failure sets the exit code.
if (code !== 0) process.exitCode = code;
