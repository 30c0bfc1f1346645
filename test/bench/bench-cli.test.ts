import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../common/paths.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

const state = tempDir();
afterAll(() => state.cleanup());

describe('camdx bench (the gateway pair against the reference proxy chain)', () => {
  it('measures both in one run, prints the ratio table and the large transfer, and writes the figures as JSON', async () => {
    const r = await run(process.execPath, [join(PROJECT_ROOT, 'bin', 'camdx.js'), '--state-dir', state.path, 'bench', '--only', 'gateway', '--rounds', '1', '--seconds', '1', '--connections', '8', '--warm-up', '1', '--large-mb', '16']);
    expect(r.stderr).not.toMatch(/camdx: /);
    expect(r.code).toBe(0);
    const row = (target: string, kib: number) => new RegExp(`^  ${target.replace(/[,]/g, '\\$&')}\\s+${kib} KiB\\s+[\\d,]+/s \\([\\d,]+–[\\d,]+\\)\\s+(\\d+\\.\\d\\d \\(\\d+\\.\\d\\d–\\d+\\.\\d\\d\\))?`, 'm');
    for (const kib of [1, 64]) {
      expect(r.stdout).toMatch(row('reference', kib));
      expect(r.stdout).toMatch(new RegExp(`^  gateways\\s+${kib} KiB\\s+[\\d,]+/s \\([^)]*\\)\\s+\\d+\\.\\d\\d \\(`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^  gateways, batch signing off\\s+${kib} KiB`, 'm'));
    }
    expect(r.stdout).toMatch(/one connection, 1 KiB: reference p50 \d+(\.\d+)? ms, p99 \d+(\.\d+)? ms; gateways p50 \d+(\.\d+)? ms, p99 \d+(\.\d+)? ms — added p50 -?\d+(\.\d+)? ms, p99 -?\d+(\.\d+)? ms/);
    // Where the CPU went, per exchange: each process of each target, then the whole machine.
    expect(r.stdout).toMatch(/^  gateways\s+1 KiB .* MB\s+\d+\.\d\d \/ \d+\.\d\d \/ \d+\.\d\d$/m);
    expect(r.stdout).toMatch(/CPU per exchange, 1 KiB, all processes: reference \d+\.\d\d ms, gateways \d+\.\d\d ms → \d+\.\d\d/);
    expect(r.stdout).toMatch(/reference: 0\.02 GiB body\s+\d+ MB\/s/);
    expect(r.stdout).toMatch(/gateways: 0\.02 GiB body\s+\d+ MB\/s, RSS idle → peak front \d+ → \d+ MB/);

    // Every figure of issue 22 against its pass line and goal, each said met or not met.
    expect(r.stdout).toContain('Against the pass lines and goals');
    for (const figure of [
      'added latency (gateways − reference), 1 connection, 1 KiB, p50 / p99',
      'added latency (gateways − reference), 8 connections, 1 KiB',
      'throughput ratio to the reference, 8 connections, 1 KiB',
      'throughput ratio to the reference, 8 connections, 64 KiB',
      'CPU per exchange per gateway, 1 KiB',
      'peak RSS per gateway under load',
      'idle RSS per gateway',
      '0.02 GiB body, MB/s against the reference',
    ]) {
      expect(r.stdout, figure).toContain(figure);
    }
    const judged = r.stdout.split('Against the pass lines and goals')[1]!;
    expect(judged.match(/pass [^\n]*: (met|not met)   goal [^\n]*: (met|not met)/g)?.length).toBe(7);

    const files = readdirSync(join(state.path, 'bench')).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const figures = JSON.parse(readFileSync(join(state.path, 'bench', files[0]!), 'utf8')) as { gateway: { rows: Array<{ target: string; ratio?: { median: number }; cpuMs: { front: number; back: number; total: number } }>; large: Array<{ bytes: number }>; unloaded: { gateways: { p99Ms: number } }; verdict: Array<{ passMet?: boolean }>; latency: Array<{ connections: number }>; memory: { idle: { gateways: { pssMb: { consumer: number } } } } } };
    expect(figures.gateway.rows.map((x) => x.target)).toEqual(['reference', 'gateways', 'reference', 'gateways', 'gateways, batch signing off', 'gateways, batch signing off']);
    for (const x of figures.gateway.rows.filter((x) => x.target !== 'reference')) expect(x.ratio!.median).toBeGreaterThan(0);
    // Every process did some work in every row, and the gateways more than the bare proxies.
    for (const x of figures.gateway.rows) expect(Math.min(x.cpuMs.front, x.cpuMs.back)).toBeGreaterThan(0);
    const [ref, ours] = figures.gateway.rows;
    expect(ours!.cpuMs.front + ours!.cpuMs.back).toBeGreaterThan(ref!.cpuMs.front + ref!.cpuMs.back);
    expect(figures.gateway.unloaded.gateways.p99Ms).toBeGreaterThan(0);
    expect(figures.gateway.large.map((l) => l.bytes)).toEqual([16 * 2 ** 20, 16 * 2 ** 20]);
    // The JSON carries the same verdict, and memory as RSS and PSS.
    expect(figures.gateway.verdict.filter((v) => v.passMet !== undefined)).toHaveLength(7);
    expect(figures.gateway.latency.map((l) => l.connections)).toEqual([1, 8, 8]);
    expect(figures.gateway.memory.idle.gateways.pssMb.consumer).toBeGreaterThan(0);
  }, 180_000);
});
