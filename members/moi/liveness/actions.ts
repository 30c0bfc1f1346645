import type { Pose } from './pose.js';

/**
 * From a pose series to the actions performed, and a score against the requested ones.
 *
 * An excursion is a run of frames away from neutral (|yaw| or |pitch| ≥ 0.3); it counts as an
 * action if its peak reaches 0.6: a turn left (1) or right (2) by the sign of the yaw, a nod (3)
 * when the pitch dominates. The score is the longest common subsequence of requested and
 * performed actions divided by the longer of the two: every requested action in order and
 * nothing else gives 1; a missing, extra or out-of-order action lowers it; no movement gives 0.
 */

export type Action = '1' | '2' | '3';
export const ACTIONS: Record<Action, string> = { '1': 'turn face to the left', '2': 'turn face to the right', '3': 'nod the head' };

const NEUTRAL = 0.3;
const PEAK = 0.6;

export function performedActions(poses: readonly Pose[]): Action[] {
  const out: Action[] = [];
  let peakYaw = 0;
  let peakPitch = 0;
  let inExcursion = false;
  const close = () => {
    if (Math.max(Math.abs(peakYaw), Math.abs(peakPitch)) >= PEAK) {
      out.push(Math.abs(peakPitch) > Math.abs(peakYaw) ? '3' : peakYaw < 0 ? '1' : '2');
    }
    peakYaw = 0;
    peakPitch = 0;
    inExcursion = false;
  };
  for (const p of poses) {
    const away = Math.abs(p.yaw) >= NEUTRAL || Math.abs(p.pitch) >= NEUTRAL;
    if (away) {
      inExcursion = true;
      if (Math.abs(p.yaw) > Math.abs(peakYaw)) peakYaw = p.yaw;
      if (Math.abs(p.pitch) > Math.abs(peakPitch)) peakPitch = p.pitch;
    } else if (inExcursion) close();
  }
  if (inExcursion) close();
  return out;
}

function lcs(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = x === b[j - 1] ? diagonal + 1 : Math.max(row[j]!, row[j - 1]!);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

export function actionScore(requested: readonly Action[], performed: readonly Action[]): number {
  const longer = Math.max(requested.length, performed.length);
  return longer === 0 ? 0 : lcs(requested, performed) / longer;
}
