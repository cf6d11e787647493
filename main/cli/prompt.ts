import { createInterface } from 'node:readline';
import { CliError } from './cli-error.js';

/**
 * Reads a secret: from an environment variable when set, else from the terminal without echo, else the
 * first line of stdin. Never from argv, where other users' `ps` would see it.
 */
export async function readSecretInput(prompt: string, options: { confirm?: boolean; env?: string } = {}): Promise<string> {
  const fromEnv = options.env ? process.env[options.env] : undefined;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    const line = await readLine();
    if (!line) throw new CliError('no passphrase on stdin');
    return line;
  }
  const first = await askHidden(prompt);
  if (!first) throw new CliError('the passphrase is empty');
  if (options.confirm) {
    const second = await askHidden('Repeat it: ');
    if (first !== second) throw new CliError('the passphrases do not match');
  }
  return first;
}

async function readLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}

function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const input = process.stdin;
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.resume();
    let value = '';
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (char === '\u0003') { input.setRawMode(false); process.exit(130); }
        if (char === '\u007f') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on('data', onData);
  });
}
