import type { OutcomeNetwork } from './exchange-outcomes.js';
import { startMitm } from './mitm.js';
import { fetchOcsp } from './ocsp.js';

/** The provider's security server, as central registers it. */
const PROVIDER_SERVER = 'CAMDX/GOV/MOI/SS1';

/**
 * Registers a new address for the provider's server and waits until the consumer uses it. The
 * consumer downloads the configuration now rather than at its next poll (a minute away), so no
 * timer decides when the scenario may start.
 */
async function registerProviderAddress(n: OutcomeNetwork, address: string): Promise<void> {
  await n.central.admin.call('PATCH', `/servers/${PROVIDER_SERVER}`, { address });
  // Central publishes before a changing call returns: this version has the new address.
  const { version } = await n.central.admin.call<{ version: number }>('GET', '/globalconf/status');
  const conf = n.consumer.context.globalConf;
  for (let tries = 0; (conf.current?.version ?? 0) < version; tries++) {
    if (tries === 20) throw new Error(`the consumer did not take configuration version ${version} with ${PROVIDER_SERVER} at ${address}`);
    await conf.refresh();
    if ((conf.current?.version ?? 0) < version) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Until the returned undo runs, the consumer reaches the provider through a relay that holds the
 * provider server's authentication key (its keystore's, with its OCSP response stapled), so the
 * consumer's pinned connection accepts it, and that flips one byte of every response body. The
 * provider answers a sound request; only the consumer's verification of the answer can fail.
 */
export async function routeThroughTamperingRelay(n: OutcomeNetwork): Promise<() => Promise<void>> {
  const { tls } = n.asProvider;
  const relay = await startMitm({
    asProvider: tls,
    // Fetched before the scenario's clock is frozen, so it is never newer than that clock.
    providerOcsp: () => fetchOcsp(n.central.pki.url, tls.chain[0]!, tls.chain[1]!),
    asConsumer: n.asConsumer.tls,
    providerUrl: n.peerUrl,
  });
  relay.tamperResponse = (m) => {
    if (m.body.length === 0) throw new Error('the provider answered with no body: nothing to flip');
    m.body[m.body.length >> 1]! ^= 0x01;
  };
  try {
    await registerProviderAddress(n, `127.0.0.1:${relay.port}`);
  } catch (err) {
    await relay.close();
    throw err;
  }
  return async () => {
    await registerProviderAddress(n, `127.0.0.1:${n.provider.ports.peer}`);
    await relay.close();
  };
}
