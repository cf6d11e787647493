import type { EventEmitter } from 'node:events';
import { ForeignLoad, processCpuSeconds, type Disturbance } from './proc.js';
import type { TokenTarget } from './token-check.js';

/** What the bench uses of autocannon, which ships no TypeScript types. */
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => EventEmitter;

// A variable specifier keeps the untyped package out of the type checker; the shape is declared above.
const packageName = 'autocannon';
const { default: autocannon } = (await import(packageName)) as { default: Autocannon };

export interface LoadOptions {
  connections: number;
  durationSeconds: number;
  /** The server under load: its CPU time per token is reported. */
  serverPid: number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadRun {
  target: string;
  seconds: number;
  /** Responses with a 2xx status: tokens issued. */
  tokens: number;
  tokensPerSecond: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latencyMs: Percentiles;
  /**
   * CPU time the server spent per token (all its threads, user + system), in µs. The steadiest figure on
   * a shared machine: others' load stretches wall-clock time far more than it changes the work per token.
   */
  serverCpuUsPerToken: number;
  /** What of the machine was not ours during this run: other processes, hypervisor steal. */
  disturbance: Disturbance;
}

/**
 * Response times in ms with sub-millisecond precision, as autocannon measures each one (its own
 * histogram keeps whole milliseconds only, too coarse for a loopback server).
 */
export class Latencies {
  private values = new Float64Array(1 << 16);
  private length = 0;

  add(ms: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = ms;
  }

  merge(other: Latencies): void {
    for (let i = 0; i < other.length; i++) this.add(other.values[i]!);
  }

  percentiles(): Percentiles {
    const sorted = this.values.slice(0, this.length).sort();
    const at = (q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN);
    let sum = 0;
    for (const value of sorted) sum += value;
    return { p50: ms(at(0.5)), p90: ms(at(0.9)), p99: ms(at(0.99)), max: ms(at(1)), mean: ms(sum / sorted.length) };
  }
}

/**
 * Drives one token endpoint with autocannon for a fixed time: N keep-alive connections, each sending
 * the next request as soon as the previous answer arrives (closed loop, no pipelining). Latencies of
 * 2xx responses only, like autocannon's own; any non-2xx is counted and invalidates the run.
 */
export async function drive(target: TokenTarget, options: LoadOptions): Promise<{ run: LoadRun; latencies: Latencies }> {
  const latencies = new Latencies();
  const notOurs = new ForeignLoad([options.serverPid, process.pid]);
  const serverCpuAtStart = processCpuSeconds(options.serverPid);
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon({
      url: target.tokenEndpoint,
      ...(target.socketPath ? { socketPath: target.socketPath } : {}),
      method: 'POST',
      headers: { authorization: target.authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: target.body,
      connections: options.connections,
      duration: options.durationSeconds,
      pipelining: 1,
      timeout: 10,
    }, (error, finished) => (error ? reject(error) : resolve(finished)));
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.add(responseTimeMs);
    });
  });
  const serverCpuSeconds = processCpuSeconds(options.serverPid) - serverCpuAtStart;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
  return {
    run: {
      target: target.name,
      seconds: result.duration,
      tokens: result['2xx'],
      tokensPerSecond: Math.round(result['2xx'] / result.duration),
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodes,
      latencyMs: latencies.percentiles(),
      serverCpuUsPerToken: result['2xx'] ? Math.round((serverCpuSeconds * 1e6) / result['2xx']) : NaN,
      disturbance: notOurs.measure(),
    },
    latencies,
  };
}

const ms = (value: number): number => Number(value.toFixed(3));
