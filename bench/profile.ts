import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` this summary reads. */
interface CpuProfile {
  readonly nodes: ReadonlyArray<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileItem {
  readonly name: string;
  readonly selfPercent: number;
}

const short = (url: string) => url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(?=[^/]+\/[^/]+$)/, '');

/**
 * Self time per function over one profile as a share of the busy (non-idle) time, largest
 * first: where the CPU actually went. The garbage collector and native calls are listed under
 * V8's own names so they are not hidden; `busyPercent` says how much of the run was busy.
 */
export function topSelfTime(file: string, count = 12): { busyPercent: number; items: ProfileItem[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    if (frame.functionName === '(idle)') return;
    busy += dt;
    const name = `${frame.functionName || '(anonymous)'} ${frame.url ? `${short(frame.url)}:${frame.lineNumber + 1}` : ''}`.trim();
    self.set(name, (self.get(name) ?? 0) + dt);
  });
  const items = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, selfPercent: (100 * us) / (busy || 1) }));
  return { busyPercent: (100 * busy) / (total || 1), items };
}

export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f));
}
