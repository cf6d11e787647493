// The real `latchkey` command, as a user runs it: `node bin/latchkey.js …` (the built CLI in dist/), and
// `latchkey serve` as a child process on 127.0.0.1:0 with its own data dir. Every child is tracked so a
// test can always stop what it started (stopAllChildren in afterAll).
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO_ROOT, 'bin', 'latchkey.js');
const BUILT_ENTRY = join(REPO_ROOT, 'dist', 'main', 'cli', 'latchkey.js');

/** A passphrase for the vault of `serve` children (real scrypt, N = 2^17: about half a second per unlock). */
export const CLI_PASSPHRASE = 'correct horse battery staple';

const children = new Set<ChildProcess>();

/**
 * The CLI runs dist/, not the sources: refuse to test a missing or stale build rather than test old code.
 * (`npm test` builds first; so does the README's test command.)
 */
export function requireFreshBuild(): void {
  if (!existsSync(BUILT_ENTRY)) throw new Error('dist/ is missing: run `npm run build` before these tests');
  const built = statSync(BUILT_ENTRY).mtimeMs;
  const newer = [join(REPO_ROOT, 'main', 'cli'), join(REPO_ROOT, 'main', 'core'), join(REPO_ROOT, 'client'), join(REPO_ROOT, 'shared')]
    .flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file)))
    .find((file) => file.endsWith('.ts') && statSync(file).mtimeMs > built);
  if (newer) throw new Error(`dist/ is older than ${newer}: run \`npm run build\` before these tests`);
}

/**
 * The environment of a child: this one's, minus what would make the test depend on the developer's
 * setup (their data dir, their vault passphrase), plus what the test says.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LATCHKEY_DATA_DIR;
  delete env.LATCHKEY_VAULT_PASSPHRASE;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json). */
  json<T = any>(): T;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (stdin is never a TTY here). */
  input?: string;
  /** The program and its leading arguments; default `node bin/latchkey.js`. */
  command?: string[];
}

/** Runs `latchkey ARGS…` to completion. */
export function latchkey(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const [program, ...leading] = options.command ?? [process.execPath, BIN];
  // Its own session (setsid): no controlling terminal, as under CI or an agent's pipe, even when the tests
  // run in a developer's terminal. What needs one runs under latchkeyOnTerminal.
  const child = spawn(program!, [...leading, ...args], { cwd: REPO_ROOT, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      children.delete(child);
      resolve({
        code,
        stdout,
        stderr,
        json: () => {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`latchkey ${args.join(' ')} printed no JSON (exit ${code}): ${stdout}${stderr}`);
          }
        },
      });
    });
  });
}

/** A command that must succeed; its JSON output. */
export async function latchkeyJson<T = any>(args: string[], options: RunOptions = {}): Promise<T> {
  const result = await latchkey([...args, '--json'], options);
  if (result.code !== 0) throw new Error(`latchkey ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}`);
  return result.json<T>();
}

export interface RuntimeInfo {
  issuer: string;
  pid: number;
  socket: string | null;
  started_at: string;
}

/** A running `latchkey serve` (or `npm start`) child process. */
export class ServeProcess {
  stdout = '';
  stderr = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess, readonly dataDir: string, public runtime: RuntimeInfo | null = null) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { this.stdout += chunk; });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }));
  }

  /**
   * Starts `latchkey serve --data-dir DIR --port 0` (or `command`, which must exec the broker in place)
   * and waits until it has written its runtime.json.
   */
  static async start(dataDir: string, options: { env?: NodeJS.ProcessEnv; command?: string[]; args?: string[] } = {}): Promise<ServeProcess> {
    const [program, ...leading] = options.command ?? [process.execPath, BIN, 'serve'];
    const args = [...leading, '--data-dir', dataDir, '--port', '0', ...(options.args ?? [])];
    const child = spawn(program!, args, { cwd: REPO_ROOT, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const serve = new ServeProcess(child, dataDir);
    serve.runtime = await serve.waitForRuntime();
    return serve;
  }

  get issuer(): string {
    return this.runtime!.issuer;
  }

  /** Polls for DIR/runtime.json naming this process; fails if the process exits first. */
  private async waitForRuntime(timeoutMs = 20_000): Promise<RuntimeInfo> {
    let exit: { code: number | null } | undefined;
    void this.exited.then((result) => { exit = result; });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exit) throw new Error(`serve exited (code ${exit.code}) before listening: ${this.stderr}${this.stdout}`);
      const runtime = readRuntime(this.dataDir);
      if (runtime && runtime.pid === this.child.pid) return runtime;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`serve did not write runtime.json within ${timeoutMs} ms: ${this.stderr}${this.stdout}`);
  }

  /** Waits until stdout shows `pattern` (what serve prints once listening arrives a moment after runtime.json). */
  async waitForOutput(pattern: RegExp, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stdout)) {
      if (Date.now() > deadline) throw new Error(`serve never printed ${pattern}; stdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.stdout;
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** Resolves when the process exits on its own. */
  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }
}

export function readRuntime(dataDir: string): RuntimeInfo | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')) as RuntimeInfo;
  } catch {
    return null;
  }
}

/** Kills every child a test started and has not seen exit (call in afterAll/afterEach). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  })));
  children.clear();
}

/** A `latchkey …` child still running: its output so far, and its end. */
export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until stdout shows `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts `latchkey ARGS…` without waiting for it (for what must happen while it runs: signals). */
export function startLatchkey(args: string[], options: RunOptions = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForOutput(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stdout)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`never printed ${pattern}; stdout: ${stdout}\nstderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** Rows in every table of a data dir's SQLite file (what the broker committed): bad input must change none. */
export function rowCounts(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, 'latchkey.db'), { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>;
    return Object.fromEntries(tables.map(({ name }) => [name, (db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

/** What the owner types at a prompt: `type` (then Enter) once the terminal shows `after`. */
export interface TerminalAnswer {
  after: RegExp;
  type: string;
}

/** A command run on a terminal: everything the terminal showed (stdout, stderr and prompts, \r\n as \n). */
export interface TerminalResult {
  code: number | null;
  output: string;
}

const shellQuote = (word: string): string => `'${word.replace(/'/g, "'\\''")}'`;

/**
 * Runs `latchkey ARGS…` with a real terminal as its controlling terminal, as the owner runs it: util-linux
 * `script` gives it a pseudo-terminal, and what is written to `script`'s stdin is typed on that terminal.
 * Each answer is typed once the terminal shows its prompt (after the previous answer), so nothing is typed
 * ahead of the program asking.
 */
export function latchkeyOnTerminal(args: string[], answers: TerminalAnswer[] = [], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<TerminalResult> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, env: childEnv({ SHELL: '/bin/sh', ...options.env }), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let output = '';
  let seen = 0;
  const pending = [...answers];
  const typeWhenAsked = (): void => {
    const next = pending[0];
    if (!next) return;
    const match = next.after.exec(output.slice(seen));
    if (!match) return;
    seen += match.index + match[0].length;
    pending.shift();
    child.stdin!.write(`${next.type}\r`);
    typeWhenAsked();
  };
  const onOutput = (chunk: string): void => {
    output += chunk.replace(/\r\n/g, '\n');
    typeWhenAsked();
  };
  child.stdout!.setEncoding('utf8').on('data', onOutput);
  child.stderr!.setEncoding('utf8').on('data', onOutput);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      child.stdin!.destroy();
      if (signal === 'SIGKILL') reject(new Error(`latchkey ${args.join(' ')} on a terminal did not finish within ${timeoutMs} ms (still to type: ${pending.map((answer) => answer.after).join(', ') || 'nothing'}); it showed:\n${output}`));
      else resolve({ code, output });
    });
  });
}
