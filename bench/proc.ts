import { readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** Resident set size of a process, from /proc (Linux), in bytes. */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
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
