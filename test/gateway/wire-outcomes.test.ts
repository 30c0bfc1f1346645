import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runOutcomeScenarios, type Outcome } from '../support/exchange-outcomes.js';
import { WIRE_V1 } from '../support/wire-fixtures.js';

/**
 * Issue 21: the exchange refactor changes no outcome. A success and a failure at each step
 * (parse, client, service, connect, verify — the provider refusing a request, the consumer a
 * response altered in flight — replay, access, service call, and the provider's
 * own parse, client and service checks) run through two gateways on a frozen clock, and each
 * must tell the caller the same X-Road type and status, and leave the same message-log records
 * and metric increments on both gateways, as the code of a1678c5 did
 * (test/fixtures/wire-v1/outcomes.json, written by scripts/record-wire-vectors.ts).
 */
const recorded = (JSON.parse(readFileSync(join(WIRE_V1, 'outcomes.json'), 'utf8')) as { outcomes: Record<string, Outcome> }).outcomes;

let outcomes: Record<string, Outcome>;
beforeAll(async () => {
  outcomes = await runOutcomeScenarios();
}, 120_000);

describe('exchange outcomes, as recorded from a1678c5', () => {
  it('runs the recorded scenarios, no more and no fewer', () => {
    expect(Object.keys(outcomes)).toEqual(Object.keys(recorded));
  });

  it.each(Object.keys(recorded))('%s: the same answer, records and metric increments on both gateways', (name) => {
    expect(outcomes[name]).toEqual(recorded[name]);
  });
});
