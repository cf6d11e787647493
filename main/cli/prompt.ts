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

/** The most a static secret may be (shared/admin-api.ts `resourceSecret`). */
const MAX_SECRET_BYTES = 32_768;

/**
 * A resource's static secret (`--secret-stdin`): all of stdin (a PEM key has several lines) less one
 * final newline, or, from a terminal, one line typed without echo. Never argv, never the environment
 * (a child process would inherit it).
 */
export async function readSecretFromStdin(prompt: string): Promise<string> {
  let secret: string;
  if (process.stdin.isTTY) {
    secret = await askHidden(prompt);
  } else {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_SECRET_BYTES) throw new CliError('the secret on stdin is longer than 32 KiB');
      chunks.push(chunk as Buffer);
    }
    secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  if (!secret) throw new CliError('no secret on stdin');
  return secret;
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
