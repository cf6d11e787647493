import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stop, track } from './children.js';
import { REPO_ROOT } from './latchkey.js';

export interface PeerProcess {
  child: ChildProcess;
  pid: number;
  issuer: string;
  /** e.g. `oidc-provider 9.13.3`. */
  name: string;
  stop(): Promise<void>;
}

export interface PeerOptions {
  clientId: string;
  clientSecret: string;
  resource: string;
  scopes: string[];
  env: NodeJS.ProcessEnv;
}

/** Starts oidc-provider in a child process of its own (peer-server.ts), as Latchkey runs in one. */
export async function startPeer(options: PeerOptions): Promise<PeerProcess> {
  const child = track(spawn(process.execPath, [new URL('./peer-server.js', import.meta.url).pathname], {
    cwd: REPO_ROOT,
    env: {
      ...options.env,
      BENCH_CLIENT_ID: options.clientId,
      BENCH_CLIENT_SECRET: options.clientSecret,
      BENCH_RESOURCE: options.resource,
      BENCH_SCOPES: options.scopes.join(' '),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => { output = (output + chunk.toString('utf8')).slice(-8000); });
  const announced = await new Promise<{ issuer: string }>((resolve, reject) => {
    let line = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      line += chunk.toString('utf8');
      const end = line.indexOf('\n');
      if (end >= 0) {
        try {
          resolve(JSON.parse(line.slice(0, end)) as { issuer: string });
        } catch {
          reject(new Error(`the peer printed something unexpected: ${line.slice(0, 300)}`));
        }
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the peer exited (${signal ?? code}) before listening:\n${output}`)));
  }).catch(async (error: unknown) => {
    await stop(child);
    throw error;
  });
  return { child, pid: child.pid!, issuer: announced.issuer, name: `oidc-provider ${peerVersion()}`, stop: () => stop(child) };
}

function peerVersion(): string {
  const manifest = readFileSync(join(REPO_ROOT, 'node_modules', 'oidc-provider', 'package.json'), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}
