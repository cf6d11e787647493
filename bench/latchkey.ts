import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stop, track } from './children.js';
import { send } from './http.js';

/** The repository root, from dist/bench/ where the compiled bench runs. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO_ROOT, 'bin', 'latchkey.js');

export interface LatchkeyProcess {
  child: ChildProcess;
  pid: number;
  dataDir: string;
  issuer: string;
  /** The local socket (runtime.json names it). */
  socket: string;
  adminToken: string;
  /** Spawn → runtime.json written (what `latchkey serve` writes once it listens), in ms. */
  readyMs: number;
  /** What the broker printed, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Starts the built CLI exactly as a user would (`latchkey serve --data-dir DIR --port 0`) and times it
 * from spawn to runtime.json. The data dir must exist (an empty dir is a fresh one): the bench watches
 * it, since inotify sees the file appear within a fraction of a millisecond where polling would both
 * lag and steal CPU from the broker it is timing.
 */
export async function startLatchkey(options: StartOptions): Promise<LatchkeyProcess> {
  const runtimeFile = join(options.dataDir, 'runtime.json');
  if (existsSync(runtimeFile)) throw new Error(`${runtimeFile} exists already: is a broker running on that data dir?`);
  let output = '';
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString('utf8')).slice(-8000); };

  let resolveReady!: (ms: number) => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<number>((resolve, reject) => { resolveReady = resolve; rejectReady = reject; });
  let startedAt = 0;
  const check = (): void => { if (existsSync(runtimeFile)) resolveReady(performance.now() - startedAt); };
  const watcher = watch(options.dataDir, (_event, name) => { if (name === 'runtime.json') check(); });
  // A slow poll behind the watcher, in case an event is missed; it does not set the figure's precision.
  const poll = setInterval(check, 50);

  startedAt = performance.now();
  const child = track(spawn(process.execPath, [CLI, 'serve', '--data-dir', options.dataDir, '--port', '0'], {
    cwd: REPO_ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('error', rejectReady);
  child.once('exit', (code, signal) => rejectReady(new Error(`latchkey serve exited (${signal ?? code}) before it was ready:\n${output}`)));
  const timeout = setTimeout(() => rejectReady(new Error(`latchkey serve was not ready after 30 s:\n${output}`)), 30_000);

  let readyMs: number;
  try {
    readyMs = await ready;
  } catch (error) {
    await stop(child);
    throw error;
  } finally {
    watcher.close();
    clearInterval(poll);
    clearTimeout(timeout);
  }
  const runtime = JSON.parse(readFileSync(runtimeFile, 'utf8')) as { issuer: string; pid: number; socket: string };
  if (runtime.pid !== child.pid) throw new Error(`runtime.json names pid ${runtime.pid}, not the broker the bench started (${child.pid})`);
  return {
    child,
    pid: child.pid!,
    dataDir: options.dataDir,
    issuer: runtime.issuer,
    socket: runtime.socket,
    adminToken: readFileSync(join(options.dataDir, 'admin.token'), 'utf8').trim(),
    readyMs,
    output: () => output,
    stop: async () => {
      await stop(child);
      if (child.signalCode === null && existsSync(runtimeFile)) throw new Error(`latchkey serve stopped but left ${runtimeFile} behind`);
    },
  };
}

/**
 * Calls the running broker's admin API, as the CLI does: over loopback HTTP, or over the local socket
 * (`via: 'socket'`, where the CLI itself sends it).
 */
export async function admin<T = any>(broker: LatchkeyProcess, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, options: { via?: 'tcp' | 'socket' } = {}): Promise<T> {
  const response = await send({
    url: `${options.via === 'socket' ? 'http://localhost' : broker.issuer}/api${path}`,
    socketPath: options.via === 'socket' ? broker.socket : undefined,
    method,
    headers: { authorization: `Bearer ${broker.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status < 200 || response.status >= 300) throw new AdminError(method, path, response.status, response.text);
  return (response.text ? JSON.parse(response.text) : undefined) as T;
}

/** An admin call answered with an error; the message names the route, the status and the broker's answer. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(readonly method: string, readonly path: string, readonly status: number, readonly text: string) {
    super(`admin ${method} ${path} answered ${status}: ${text.slice(0, 300)}`);
  }
}
