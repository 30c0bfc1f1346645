import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MEMBERS, type MemberNode } from '../sim/topology.js';
import { failCommand } from './context.js';

const codeOf = (m: MemberNode) => m.member.split('/').at(-1)!;

/** A simulated member named by its code (`MOI`, any case) or its member id (`CAMDX/GOV/MOI`). */
export function findSimMember(name: string): MemberNode | undefined {
  const wanted = name.trim().toUpperCase();
  return MEMBERS.find((m) => codeOf(m) === wanted || m.member.toUpperCase() === wanted);
}

/**
 * The gateway configuration of a member of the `npm start` network in `stateDir`
 * (`<stateDir>/sim/<key>/gateway.yaml`), or a refusal (exit 2) naming what was asked, which
 * members there are and where it looked. Reads only: a state directory is never created here.
 */
export function simGatewayConfig(name: string, stateDir: string): { member: MemberNode; config: string } {
  const member = findSimMember(name);
  if (!member) {
    const known = MEMBERS.map((m) => `${codeOf(m)} (${m.member})`).join(', ');
    failCommand(`no member '${name}' in the simulation in ${stateDir}: its members are ${known}; for another gateway pass --config its gateway.yaml`, 2);
  }
  const config = join(stateDir, 'sim', member.key, 'gateway.yaml');
  if (!existsSync(config)) {
    failCommand(
      `no gateway configuration for ${codeOf(member)} at ${config}: the state directory ${stateDir} holds no simulation (start one with npm start, or point ` +
        `CAMDX_STATE_DIR / --state-dir at its state directory)`,
      2,
    );
  }
  return { member, config };
}
