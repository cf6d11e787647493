import { Broker } from '../core/broker.js';
import { stderrLogger } from '../core/logger.js';
import { CliError } from './cli-error.js';
import { isAlive, readRuntimeIfAny, removeRuntime, writeRuntime } from './runtime.js';

export interface ServeOptions {
  dataDir: string;
  port: number;
  /** Printed after the address, e.g. by `npm start` to say it runs headless. */
  banner?: string;
}

/**
 * `latchkey serve`: the headless broker. Writes runtime.json (mode 0600) once listening; removes it on
 * SIGINT/SIGTERM after closing cleanly.
 */
export async function serve(options: ServeOptions): Promise<Broker> {
  const running = readRuntimeIfAny(options.dataDir);
  if (running && running.pid !== process.pid && isAlive(running.pid)) {
    throw new CliError(`a broker is already running for ${options.dataDir} (pid ${running.pid}, ${running.issuer})`);
  }
  const passphrase = process.env.LATCHKEY_VAULT_PASSPHRASE || undefined;
  const broker = await Broker.open({ dataDir: options.dataDir, passphrase, log: stderrLogger });
  let issuer: string;
  try {
    issuer = await broker.listen(options.port);
  } catch (error) {
    await broker.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${options.port} is in use: choose another with --port (0 picks a free one)`);
    throw error;
  }
  writeRuntime(options.dataDir, { issuer, pid: process.pid, socket: null, started_at: new Date().toISOString() }, broker.adminToken);

  const vault = broker.vaultStatus();
  process.stdout.write(`Latchkey is listening at ${issuer}\n`);
  process.stdout.write(`  data dir: ${options.dataDir}\n`);
  process.stdout.write(`  vault:    ${vault.state}${vault.backend ? ` (${vault.backend})` : ''}\n`);
  if (vault.message) process.stdout.write(`  ${vault.message}\n`);
  if (options.banner) process.stdout.write(`${options.banner}\n`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`Latchkey: ${signal}, shutting down\n`);
    removeRuntime(options.dataDir, process.pid);
    await broker.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return broker;
}
