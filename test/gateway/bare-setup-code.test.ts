import { describe, expect, it } from 'vitest';
import { SetupCode, SETUP_CODE_MINUTES } from '../../gateway/bare/setup-code.js';

describe("a bare gateway's setup code", () => {
  it('opens one session, within 15 minutes of start; a wrong code is wrong whatever the state', () => {
    let now = 1_000_000;
    const code = new SetupCode(() => now);
    expect(code.code).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(code.redeem('x')).toBe('wrong');
    expect(code.redeem(code.code)).toBe('accepted');
    expect(code.redeem(code.code)).toBe('used');
    const late = new SetupCode(() => now);
    now += SETUP_CODE_MINUTES * 60_000 + 1;
    expect(late.redeem(late.code)).toBe('expired');
    expect(late.redeem('y')).toBe('wrong');
    expect(new SetupCode().code).not.toBe(late.code);
  });
});
