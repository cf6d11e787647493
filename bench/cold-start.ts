import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, watch } from 'node:fs';
import { join } from 'node:path';
import { stop, track } from './children.js';
import { startLatchkey } from './latchkey.js';

export interface Series {
  runsMs: number[];
  medianMs: number;
}

export interface ColdStart {
  /** An empty data dir each time: database, migrations, vault key into the keychain, signing keys generated. */
  fresh: Series;
  /** The same data dir again: vault key read from the keychain, signing keys unsealed. */
  existing: Series;
  /** Bare `node` writing a file, timed the same way: the floor no Node program starts below. */
  nodeFloor: Series;
}

/**
 * Cold start to ready: spawn → runtime.json, median of several runs, on fresh data dirs and on one
 * existing data dir. Run one after the other on a quiet machine (nothing else of the bench is running);
 * the OS file cache is warm, as it is for a user starting Latchkey a second time.
 */
export async function measureColdStart(root: string, runs: number, env: NodeJS.ProcessEnv): Promise<ColdStart> {
  const fresh: number[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = mkdtempSync(join(root, 'fresh-'));
    dirs.push(dataDir);
    const broker = await startLatchkey({ dataDir, env });
    fresh.push(broker.readyMs);
    await broker.stop();
  }
  const existing: number[] = [];
  for (let i = 0; i < runs; i++) {
    const broker = await startLatchkey({ dataDir: dirs[0]!, env });
    existing.push(broker.readyMs);
    await broker.stop();
  }
  const nodeFloor: number[] = [];
  for (let i = 0; i < runs; i++) nodeFloor.push(await bareNodeStart(mkdtempSync(join(root, 'floor-')), env));
  return { fresh: series(fresh), existing: series(existing), nodeFloor: series(nodeFloor) };
}

/** `node -e` writing a file in a watched dir: the same clock, spawn to file, with no Latchkey in it. */
async function bareNodeStart(dir: string, env: NodeJS.ProcessEnv): Promise<number> {
  const file = join(dir, 'ready');
  let startedAt = 0;
  const ready = new Promise<number>((resolve) => {
    const watcher = watch(dir, () => {
      if (existsSync(file)) {
        watcher.close();
        resolve(performance.now() - startedAt);
      }
    });
  });
  startedAt = performance.now();
  const child = track(spawn(process.execPath, ['-e', `require('node:fs').writeFileSync(${JSON.stringify(file)}, '')`], { env, stdio: 'ignore' }));
  const ms = await ready;
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  await stop(child);
  return ms;
}

export function series(runsMs: number[]): Series {
  const sorted = [...runsMs].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { runsMs: runsMs.map(round), medianMs: round(median) };
}

const round = (value: number): number => Number(value.toFixed(1));
