import { closeSync, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ReadStream } from 'node:tty';
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

/** The terminal the owner types on: the controlling terminal, never stdin, the environment, argv or a file. */
export interface OwnerTerminal {
  /** One line typed without echo. */
  ask(prompt: string): Promise<string>;
  /** A line for the owner's eyes, even when stdout and stderr go elsewhere. */
  tell(line: string): void;
  close(): void;
}

/** No controlling terminal (CI, an agent's pipe, a daemon): nothing the owner types can reach this process. */
export class NoTerminalError extends CliError {
  constructor() {
    super('there is no terminal to type the owner passphrase on');
    this.name = 'NoTerminalError';
  }
}

/**
 * Opens the controlling terminal itself (`/dev/tty`), whatever stdin is: a passphrase piped to stdin by an
 * agent is never read. Returns null when the process has none (opening /dev/tty fails with ENXIO).
 */
export function openOwnerTerminal(): OwnerTerminal | null {
  let readFd: number;
  let writeFd: number;
  try {
    readFd = openSync('/dev/tty', 'r');
  } catch {
    return null;
  }
  try {
    // Its own descriptor for the prompt: the reader's is switched to non-blocking by libuv.
    writeFd = openSync('/dev/tty', 'w');
  } catch {
    closeSync(readFd);
    return null;
  }
  const input = new ReadStream(readFd);
  return {
    ask: (prompt) => askHidden(prompt, input, (text) => writeSync(writeFd, text)),
    tell: (line) => writeSync(writeFd, `${line}\n`),
    close: () => {
      input.destroy();
      closeSync(writeFd);
    },
  };
}

/** One line typed without echo on the controlling terminal; NoTerminalError without one. */
export async function readFromTerminal(prompt: string): Promise<string> {
  const terminal = openOwnerTerminal();
  if (!terminal) throw new NoTerminalError();
  try {
    return await terminal.ask(prompt);
  } finally {
    terminal.close();
  }
}

function askHidden(prompt: string, input: NodeJS.ReadStream | ReadStream = process.stdin, write: (text: string) => void = (text) => process.stderr.write(text)): Promise<string> {
  return new Promise((resolve) => {
    // No echo before the prompt shows: what is typed as soon as it appears is never printed.
    input.setRawMode(true);
    write(prompt);
    input.resume();
    let value = '';
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        // Enter ends the line; so does Ctrl-D, which a raw terminal passes on as a character.
        if (char === '\r' || char === '\n' || char === '\u0004') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          write('\n');
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
