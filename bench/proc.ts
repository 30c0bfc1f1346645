import { readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** Resident set size of a process, from /proc (Linux), in bytes. */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Proportional set size of a process, in bytes: its private memory plus its share of pages it
 * shares (the Node binary and libraries mapped by several gateways on one machine), from
 * /proc/PID/smaps_rollup; 0 where that is missing.
 */
export function pssOf(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the peak PSS of some processes until `stop()` (reading smaps_rollup costs more than status: sampled less often). */
export function pssSampler(pids: Record<string, number>, everyMs = 250) {
  const peak: Record<string, number> = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pssOf(pid)]));
  const timer = setInterval(() => {
    for (const [k, pid] of Object.entries(pids)) peak[k] = Math.max(peak[k]!, pssOf(pid));
  }, everyMs);
  return {
    stop(): Record<string, number> {
      clearInterval(timer);
      return peak;
    },
  };
}

/** Samples the peak RSS of some processes until `stop()`. */
export function rssSampler(pids: Record<string, number>, everyMs = 100) {
  const peak: Record<string, number> = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, rssOf(pid)]));
  const timer = setInterval(() => {
    for (const [k, pid] of Object.entries(pids)) {
      try {
        peak[k] = Math.max(peak[k]!, rssOf(pid));
      } catch {
        // the process has gone
      }
    }
  }, everyMs);
  return {
    stop(): Record<string, number> {
      clearInterval(timer);
      return peak;
    },
  };
}

/** CPU time (user + system) a process has used so far, in milliseconds; 0 where /proc is missing. */
export function cpuMsOf(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces and parentheses): utime and stime are the 12th and 13th, in clock ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1000 / TICKS_PER_SECOND);
  } catch {
    return 0;
  }
}

/** CPU used by some processes between now and `stop()`, in milliseconds each. */
export function cpuMeter(pids: Record<string, number>) {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid)]));
  return {
    stop(): Record<string, number> {
      return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid) - before[k]!]));
    },
  };
}
