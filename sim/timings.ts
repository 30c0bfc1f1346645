import { DEFAULT_CENTRAL_SETTINGS, type CentralSettings } from '../central/settings.js';
import type { RawGatewayConfig } from '../gateway/config.js';

/** The central settings that decide how soon a fault shows and how soon the network recovers. */
export type CentralTimings = Pick<CentralSettings, 'ocspFreshnessSeconds' | 'confExpirySeconds' | 'timestampingIntervalSeconds'>;

/**
 * The simulated network's timings (`npm start`, docker-compose), set at every start. X-Road's
 * defaults hide a `camdx fault … down` for 10 minutes (configuration), 1 hour (OCSP) or 4 hours
 * (TSA); these show each within a minute, and recovery within seconds:
 * - OCSP responses count as fresh 30 s; gateways refresh their own every quarter of that.
 * - A configuration is valid 40 s; central re-signs it once half is left, gateways poll every 5 s.
 * - Message-log records are stamped every 10 s; 30 s unstamped and exchanges are refused.
 * The last two must stay in that order: a batch interval past the acceptable failure period
 * would refuse traffic with the TSA up.
 */
export const SIMULATION_CENTRAL_TIMINGS: CentralTimings = {
  ocspFreshnessSeconds: 30,
  confExpirySeconds: 40,
  timestampingIntervalSeconds: 10,
};

/** The simulated members' gateway settings that go with SIMULATION_CENTRAL_TIMINGS. */
export const SIMULATION_GATEWAY_TIMINGS = {
  // Short polls also make a changed access right show within seconds, as a user trying things expects.
  globalconf: { pollSeconds: 5 },
  timestamping: { acceptableFailureSeconds: 30 },
} as const satisfies Partial<RawGatewayConfig>;

/** X-Road's timings (central's defaults), for a network that measures what production would do (the bench). */
export const X_ROAD_CENTRAL_TIMINGS: CentralTimings = {
  ocspFreshnessSeconds: DEFAULT_CENTRAL_SETTINGS.ocspFreshnessSeconds,
  confExpirySeconds: DEFAULT_CENTRAL_SETTINGS.confExpirySeconds,
  timestampingIntervalSeconds: DEFAULT_CENTRAL_SETTINGS.timestampingIntervalSeconds,
};
