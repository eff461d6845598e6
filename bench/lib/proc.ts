/**
 * Process measurements from /proc (Linux): CPU time of a pid, its peak RSS
 * (VmHWM, reset per scenario through clear_refs where permitted, with 250 ms
 * sampling of VmRSS as the fallback), and the CPU time of every postgres
 * process (the database's share of the machine).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of `pid`, in seconds; undefined once the process is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

function statusKb(pid: number, key: string): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds of every process whose command is `postgres`, by pid. */
export function postgresCpuByPid(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (!stat.includes("(postgres)")) continue;
      out.set(Number(entry), cpuSeconds(Number(entry)) ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Accumulates postgres CPU across samples, per pid, so backends that exit
 * during the window (pgbench's, at its end) still count up to their last sample.
 */
function createPostgresMeter() {
  let last = postgresCpuByPid();
  let total = 0;
  return {
    sample() {
      const now = postgresCpuByPid();
      for (const [pid, cpu] of now) total += cpu - (last.get(pid) ?? 0);
      last = now;
    },
    total: () => total,
  };
}

export interface ProcWindow {
  /** Stops sampling; returns the window's figures. */
  stop(): ProcFigures;
}

export interface ProcFigures {
  /** Server CPU seconds / wall seconds (1.0 = one core busy). */
  readonly serverCpuCores: number;
  readonly dbCpuCores: number;
  readonly peakRssMb: number;
  readonly endRssMb: number;
}

/** Starts measuring `pid` (and postgres) until stop(). */
export function measure(pid: number | undefined, withPostgres: boolean): ProcWindow {
  const t0 = performance.now();
  const cpu0 = pid ? (cpuSeconds(pid) ?? 0) : 0;
  const pg = withPostgres ? createPostgresMeter() : undefined;
  if (pid) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM to the current RSS
    } catch {
      // not permitted: the sampled maximum still stands
    }
  }
  let sampledPeak = pid ? (statusKb(pid, "VmRSS") ?? 0) : 0;
  const timer = setInterval(() => {
    if (pid) sampledPeak = Math.max(sampledPeak, statusKb(pid, "VmRSS") ?? 0);
    pg?.sample();
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = pid ? (cpuSeconds(pid) ?? cpu0) : 0;
      pg?.sample();
      const hwm = pid ? (statusKb(pid, "VmHWM") ?? 0) : 0;
      const rss = pid ? (statusKb(pid, "VmRSS") ?? 0) : 0;
      return {
        serverCpuCores: (cpu1 - cpu0) / wall,
        dbCpuCores: (pg?.total() ?? 0) / wall,
        peakRssMb: Math.max(hwm, sampledPeak, rss) / 1024,
        endRssMb: rss / 1024,
      };
    },
  };
}

/** Current resident set of `pid` in MB (0 once gone). */
export function rssMb(pid: number): number {
  return (statusKb(pid, "VmRSS") ?? 0) / 1024;
}
