import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

/** The parts of a V8 `.cpuprofile` this summary reads. */
interface CpuProfile {
  readonly nodes: ReadonlyArray<{ id: number; callFrame: CallFrame; hitCount?: number; children?: readonly number[] }>;
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

export type Concern = 'XML signature' | 'HTTP and TLS' | 'message log (SQLite)' | 'garbage collection' | 'message validation' | 'OCSP checks' | 'digests' | 'hash chains' | 'start-up' | 'other';

/**
 * What the gateway was doing, by the concern a sample belongs to: the outermost of our own
 * entry points on its stack (XML signing or verification, OCSP, the log, validation, hash
 * chains), else what its innermost frame is (Node's HTTP, streams and sockets; hashing; the
 * garbage collector). Names, not files, so it reads bundled code as well as sources.
 */
const BY_CALLER: ReadonlyArray<[RegExp, Concern]> = [
  [/^(verifySignatureDocument|computeSignature|claimedSigner)$/, 'XML signature'],
  [/^(verifyOcspResponse|checkFresh|checkPeerAuthCert)$/, 'OCSP checks'],
  [/^(safeParse|decodeManifest|decodeRequestHead|decodeResponseHead)$/, 'message validation'],
  [/^(buildTree|rootFromProof|decodeProof|encodeProof)$/, 'hash chains'],
];

function innermostConcern(frame: CallFrame): Concern {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return 'garbage collection';
  if (url.includes('better-sqlite3')) return 'message log (SQLite)';
  if (/crypto\/hash/.test(url)) return 'digests';
  if (/node:internal\/modules|cjs-module-lexer/.test(url)) return 'start-up';
  if (
    /^(writev|writeBuffer|writeUtf8String|writeLatin1String)$/.test(fn) ||
    /node:(_http|net|tls|_tls|https?$|events|stream|internal\/(streams|stream_base|tls|http))/.test(url) ||
    /^parserOn/.test(fn)
  )
    return 'HTTP and TLS';
  return 'other';
}

/** Share of busy time per concern, largest first. */
export function concernShares(file: string): Array<{ concern: Concern; percent: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const concernOf = new Map<number, Concern>();
  const classify = (id: number): Concern => {
    const known = concernOf.get(id);
    if (known) return known;
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame);
    let concern: Concern | undefined;
    for (let i = stack.length - 1; i >= 0 && !concern; i--) {
      if (stack[i]!.url.includes('better-sqlite3')) concern = 'message log (SQLite)';
      else concern = BY_CALLER.find(([re]) => re.test(stack[i]!.functionName))?.[1];
    }
    concern ??= innermostConcern(stack[0]!);
    concernOf.set(id, concern);
    return concern;
  };
  const time = new Map<Concern, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    if (byId.get(id)!.callFrame.functionName === '(idle)') return;
    const dt = profile.timeDeltas[i] ?? 0;
    busy += dt;
    const concern = classify(id);
    time.set(concern, (time.get(concern) ?? 0) + dt);
  });
  return [...time.entries()].sort((a, b) => b[1] - a[1]).map(([concern, us]) => ({ concern, percent: (100 * us) / (busy || 1) }));
}
