import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { VaultStatus } from '../../shared/admin-api.js';
import { Broker } from '../core/broker.js';
import type { Prompter } from '../core/consent/prompter.js';
import { LocalSocketError } from '../core/transport/local-socket.js';
import { type Logger, stderrLogger } from '../core/logger.js';
import { CliError } from './cli-error.js';
import { isAlive, readRuntimeIfAny, removeRuntime, writeRuntime } from './runtime.js';

export interface ServeOptions {
  dataDir: string;
  port: number;
  /** The local socket's path (`--socket`); default `DATA_DIR/run/latchkey.sock` (Windows: a named pipe). */
  socket?: string | undefined;
  /** Printed once listening, after the address, e.g. by `npm start` to say where the UI is. */
  banner?: ((started: StartedBroker) => string) | undefined;
}

export interface StartedBroker {
  issuer: string;
  socket: string;
  dataDir: string;
  vault: VaultStatus;
  /** A fresh one-time link into the UI (a first-run link before there is an owner; null when the owner is disabled). */
  loginLink: () => { url: string; expiresAt: string; firstRun: boolean } | null;
}

export interface RunningBroker {
  broker: Broker;
  issuer: string;
  socket: string;
}

/**
 * Opens a broker on a data dir and makes it reachable, as every shell needs it: refuses a data dir another
 * live broker serves, listens on loopback HTTP and the local socket, writes runtime.json (mode 0600; the
 * admin CLI finds the broker by it), then warms the policy engine. `latchkey serve` and the desktop app
 * both start their broker here. The caller stops it with `stopBroker`.
 */
export async function openBroker(options: {
  dataDir: string;
  port: number;
  socket?: string | undefined;
  log: Logger;
  prompter?: Prompter | undefined;
  /** Called before runtime.json exists: whoever sees it may signal us at once, and must find a clean shutdown. */
  beforeAnnounce?: ((running: RunningBroker) => void) | undefined;
}): Promise<RunningBroker> {
  const running = readRuntimeIfAny(options.dataDir);
  if (running && running.pid !== process.pid && isAlive(running.pid)) {
    throw new CliError(`a broker is already running for ${options.dataDir} (pid ${running.pid}, ${running.issuer})`);
  }
  const passphrase = process.env.LATCHKEY_VAULT_PASSPHRASE || undefined;
  const broker = await Broker.open({ dataDir: options.dataDir, passphrase, log: options.log, prompter: options.prompter });
  let issuer: string;
  try {
    issuer = await broker.listen(options.port);
  } catch (error) {
    await broker.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${options.port} is in use: choose another with --port (0 picks a free one)`);
    throw error;
  }
  let socket: string;
  try {
    // Absolute in runtime.json, whatever directory the CLI is run from later.
    socket = await broker.listenSocket(options.socket && process.platform !== 'win32' ? resolve(options.socket) : options.socket);
  } catch (error) {
    await broker.close();
    if (error instanceof LocalSocketError) throw new CliError(error.message);
    throw error;
  }
  options.beforeAnnounce?.({ broker, issuer, socket });
  writeRuntime(options.dataDir, { issuer, pid: process.pid, socket, started_at: new Date().toISOString() }, broker.adminToken);
  // Up and announced: now compile what the first request would otherwise wait for (Cedar).
  setImmediate(() => broker.warmUp());
  return { broker, issuer, socket };
}

/** Removes runtime.json (ours only), then closes the broker, which removes the socket. */
export async function stopBroker(dataDir: string, broker: Broker): Promise<void> {
  removeRuntime(dataDir, process.pid);
  await broker.close();
}

/**
 * `latchkey serve`: the headless broker, on loopback HTTP and the local socket. Writes runtime.json
 * (mode 0600) once both listen; removes it on SIGINT/SIGTERM after closing cleanly (which removes the
 * socket too).
 */
export async function serve(options: ServeOptions): Promise<Broker> {
  // A broker idles between bursts of small requests. Under a burst V8 doubles its young generation up
  // to 32 MB and keeps it while idle; kept at its initial size it holds ~25 MB less after the bench's
  // load, for ~9 µs more GC per token (~1%). V8 reads it at every scavenge, so it applies from here on.
  setFlagsFromString('--semi-space-growth-factor=1');
  // Cedar's wasm (~4 MB) is what Latchkey's memory goes to: V8 compiles it with Liftoff, then recompiles
  // its hot functions with TurboFan in the background and keeps both, ~45 MB more. Liftoff alone decides
  // ~15% slower (tens of µs, and repeated decisions are cached), for an idle RSS of ~85 MB instead of
  // ~150 MB. Wasm flags are read when a module compiles, and none has compiled yet in this process.
  // (The desktop app sets it too: main/app/before-ready.ts.)
  setFlagsFromString('--liftoff-only');
  const log = holdWarnings(stderrLogger);
  let stopping = false;
  const onSignals = ({ broker }: RunningBroker): void => {
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`Latchkey: ${signal}, shutting down\n`);
      await stopBroker(options.dataDir, broker);
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  };
  let opened: RunningBroker;
  try {
    opened = await openBroker({ dataDir: options.dataDir, port: options.port, socket: options.socket, log, beforeAnnounce: onSignals });
  } catch (error) {
    log.release(null);
    throw error;
  }
  const { broker, issuer, socket } = opened;

  const vault = broker.vaultStatus();
  // The broker warned about a locked vault while opening; the summary below says it once.
  log.release(vault.message);
  process.stdout.write(`Latchkey is listening at ${issuer}\n`);
  process.stdout.write(`  socket:   ${socket}\n`);
  process.stdout.write(`  data dir: ${options.dataDir}\n`);
  process.stdout.write(`  vault:    ${vault.state}${vault.backend ? ` (${vault.backend})` : ''}\n`);
  if (vault.message) process.stdout.write(`  ${vault.message}\n`);
  if (!broker.ownerPassphraseSet) {
    process.stdout.write('  owner:    no owner passphrase yet: until you set one, an agent holding the admin token can approve and widen what agents get.\n');
    process.stdout.write('            Set it in a terminal with `npx latchkey owner passphrase`, or in the UI (Settings).\n');
  }
  if (options.banner) process.stdout.write(`${options.banner({ issuer, socket, dataDir: options.dataDir, vault, loginLink: () => broker.loginLink() })}\n`);

  return broker;
}

/** A logger that holds warnings back until released, then passes everything through. */
function holdWarnings(target: Logger): Logger & { release(except: string | null): void } {
  let held: string[] | null = [];
  return {
    info: (message) => target.info(message),
    error: (message) => target.error(message),
    warn: (message) => { if (held) held.push(message); else target.warn(message); },
    release(except) {
      const pending = held ?? [];
      held = null;
      for (const message of pending) if (message !== except) target.warn(message);
    },
  };
}
