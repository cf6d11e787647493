import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './cli-error.js';

/** What a running broker tells the CLI (and agents) about itself: DESIGN.md §7. */
export interface RuntimeInfo {
  issuer: string;
  pid: number;
  socket: string | null;
  started_at: string;
}

export const runtimeFile = (dataDir: string): string => join(dataDir, 'runtime.json');
const adminTokenFile = (dataDir: string): string => join(dataDir, 'admin.token');

/** Written atomically, mode 0600 from the first byte (never world-readable for an instant). */
function writePrivate(file: string, contents: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, contents, { mode: 0o600, flag: 'w' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export function writeRuntime(dataDir: string, info: RuntimeInfo, adminToken: string): void {
  writePrivate(adminTokenFile(dataDir), `${adminToken}\n`);
  writePrivate(runtimeFile(dataDir), `${JSON.stringify(info, null, 2)}\n`);
}

export function removeRuntime(dataDir: string, pid: number): void {
  const current = readRuntimeIfAny(dataDir);
  if (current && current.pid !== pid) return; // another broker's: not ours to remove
  rmSync(runtimeFile(dataDir), { force: true });
  rmSync(adminTokenFile(dataDir), { force: true });
}

export function readRuntimeIfAny(dataDir: string): RuntimeInfo | null {
  try {
    return JSON.parse(readFileSync(runtimeFile(dataDir), 'utf8')) as RuntimeInfo;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running broker for a data dir, with the admin token it wrote; a one-line error otherwise. */
export function findRunningBroker(dataDir: string): { runtime: RuntimeInfo; adminToken: string } {
  const runtime = readRuntimeIfAny(dataDir);
  if (!runtime || !isAlive(runtime.pid)) {
    throw new CliError(`no running broker for ${dataDir}: start one with \`latchkey serve\` (or \`npm start\`)`);
  }
  let adminToken: string;
  try {
    adminToken = readFileSync(adminTokenFile(dataDir), 'utf8').trim();
  } catch {
    throw new CliError(`cannot read the admin token in ${dataDir} (is this your broker?)`);
  }
  return { runtime, adminToken };
}
