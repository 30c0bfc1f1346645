import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MEMBERS, PORTS } from '../../sim/topology.js';
import { README } from '../support/readme.js';

/**
 * The README's `--port-offset` advice against sim/topology.ts: the offsets it lists put no port
 * of a second network on a port of the default one, nor on Prometheus's or Grafana's.
 */
const { prometheus, grafana, ...served } = PORTS;
const networkPorts = [...Object.values(served), ...MEMBERS.flatMap((m) => Object.values(m.ports))];
const taken = new Set([...networkPorts, prometheus, grafana]);

/** The default-network ports a network moved by `offset` would land on (empty: the offset is clear). */
const collisions = (offset: number) => networkPorts.map((p) => p + offset).filter((p) => taken.has(p));
const inRange = (offset: number) => networkPorts.every((p) => p + offset >= 1024 && p + offset <= 65_535);

/** The tour's sentence: "Offsets clear of … : 500, 2000, 10000 and 20000 (10, 100 and 1000 are not: …)". */
function readmeOffsets(): { clear: number[]; notClear: number[] } {
  const text = readFileSync(README, 'utf8').replace(/\s+/g, ' ');
  const found = /Offsets clear of the default network and of Prometheus \(9090\) and Grafana \(3000\): ([\d, and]+?) \(([\d, and]+?) are not/.exec(text);
  if (!found) throw new Error("README: no sentence 'Offsets clear of the default network and of Prometheus (9090) and Grafana (3000): … (… are not'");
  const numbers = (list: string) => list.split(/,|\band\b/).map((n) => Number(n.trim()));
  return { clear: numbers(found[1]!), notClear: numbers(found[2]!) };
}

describe('README: port offsets for a second network', () => {
  it('lists only offsets that collide with neither the default network nor Prometheus and Grafana', () => {
    const { clear } = readmeOffsets();
    expect(clear.length).toBeGreaterThan(0);
    for (const offset of clear) expect({ offset, collisions: collisions(offset), inRange: inRange(offset) }).toEqual({ offset, collisions: [], inRange: true });
  });

  it('names 10, 100 and 1000 as colliding, as they do', () => {
    expect(readmeOffsets().notClear).toEqual([10, 100, 1000]);
    expect(collisions(10)).toContain(prometheus);
    expect(collisions(100)).toContain(PORTS.pki);
    // The README's example: 8080 + 1000 lands on DEMOBANK's admin port.
    const demobank = MEMBERS.find((m) => m.key === 'demobank')!;
    expect(collisions(1000)).toContain(demobank.ports.admin);
    expect(demobank.ports.consumer + 1000).toBe(demobank.ports.admin);
    expect(readFileSync(README, 'utf8').replace(/\s+/g, ' ')).toContain(`${demobank.ports.consumer} + 1000 is DEMOBANK's admin port ${demobank.ports.admin}`);
  });
});
