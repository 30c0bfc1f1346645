import { readFileSync } from 'node:fs';

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
