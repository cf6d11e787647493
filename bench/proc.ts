import { readFileSync } from 'node:fs';

/** Linux /proc readers: memory of one process, CPU time of processes and of the whole machine. */

/** /proc's clock ticks (USER_HZ): 100 on every Linux the bench runs on. */
const TICKS_PER_SECOND = 100;

export interface Memory {
  /** Resident set size now (VmRSS), in MiB. */
  rssMb: number;
  /** The highest RSS so far (VmHWM), in MiB. */
  peakMb: number;
}

export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]);
  };
  return { rssMb: round(kib('VmRSS') / 1024), peakMb: round(kib('VmHWM') / 1024) };
}

/** CPU seconds (user + system) a process has used; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of the whole machine, summed over all cores: busy (any process or the kernel), stolen by
 * the hypervisor (a virtual machine sharing its host: the vCPU wanted to run and could not), and total.
 */
export function machineCpuSeconds(): { busy: number; steal: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq!;
  return { busy: busy / TICKS_PER_SECOND, steal: steal! / TICKS_PER_SECOND, total: (busy + steal! + idle! + iowait!) / TICKS_PER_SECOND };
}

export interface Disturbance {
  /** Cores kept busy by processes that are not part of the bench (others' tests), on average. */
  otherProcessesCores: number;
  /** Cores the hypervisor took away (steal time): other virtual machines on the same host. */
  stolenCores: number;
}

/**
 * Measures, over a stretch of time, how much of the machine was not ours: other processes, and CPU time
 * stolen by the hypervisor. The bench reports it per round so that a disturbed round shows.
 */
export class ForeignLoad {
  private readonly machineAtStart = machineCpuSeconds();
  private readonly oursAtStart: number;
  private readonly startedAt = performance.now();

  constructor(private readonly pids: readonly number[]) {
    this.oursAtStart = this.ours();
  }

  measure(): Disturbance {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const machine = machineCpuSeconds();
    const busy = machine.busy - this.machineAtStart.busy;
    const ours = this.ours() - this.oursAtStart;
    return {
      otherProcessesCores: round(Math.max(0, busy - ours) / seconds, 2),
      stolenCores: round((machine.steal - this.machineAtStart.steal) / seconds, 2),
    };
  }

  private ours(): number {
    return this.pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  }
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
