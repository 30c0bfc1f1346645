import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { IdentifierError, parseSecurityServerId } from '../../protocol/identifiers.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { loadGatewayConfig, type GatewayConfig } from '../config.js';
import { writeGatewayConfig, type GatewayFileSpec } from '../setup/config-file.js';
import { KeyWorkflowError } from '../setup/key-workflow.js';
import { listedFor } from '../setup/saved-auth.js';
import type { SetupContext } from './setup-context.js';

/** X-Road's initial configuration: the owner member and the server code (`POST /initialization`). */
export const Initialization = z.strictObject({
  ownerId: z.string().min(1).max(300).describe('the owner member, INSTANCE/CLASS/CODE, e.g. CAMDX/COM/ACME'),
  serverCode: z.string().min(1).max(100).describe("this security server's code, e.g. SS1"),
});

/** Where a bare gateway is on its way to carrying traffic. */
export type SetupStep = 'owner' | 'certificates' | 'registration' | 'ready';

/** After X-Road's `GET /initialization/status`, with the steps after it that keep the ports closed. */
export interface InitializationStatus {
  readonly anchorImported: true;
  readonly serverOwnerInitialized: boolean;
  readonly serverCodeInitialized: boolean;
  readonly serverId: string | null;
  readonly certificates: { readonly auth: boolean; readonly signing: boolean };
  readonly authCertRegistered: boolean;
  readonly ready: boolean;
  readonly step: SetupStep;
  readonly next: string;
}

const NEXT: Record<SetupStep, string> = {
  owner: 'enter the owner member and the server code',
  certificates: 'make a signing and an authentication key, have the RA certify them (an enrolment token from central for each), and import the certificates',
  registration: "register the authentication certificate with central (Register, on the Keys page); the consumer and peer ports open when central's global configuration lists it",
  ready: 'set up: the consumer and peer ports are open',
};

/** Whether central's configuration lists this server with the authentication certificate in use. */
export function authCertListed(conf: GlobalConf | undefined, serverId: string, auth: SetupContext['keys']['auth']): boolean {
  return auth !== undefined && listedFor(conf, serverId, auth.cert);
}

export function initializationStatus(setup: SetupContext | undefined, conf: GlobalConf | undefined, handedOver = false): InitializationStatus {
  const certificates = { auth: setup?.keys.auth !== undefined, signing: setup?.keys.signing !== undefined };
  const registered = setup ? authCertListed(conf, setup.config.serverId, setup.keys.auth) : false;
  const step: SetupStep = handedOver ? 'ready' : !setup ? 'owner' : !certificates.auth || !certificates.signing ? 'certificates' : registered ? 'ready' : 'registration';
  return {
    anchorImported: true,
    serverOwnerInitialized: setup !== undefined,
    serverCodeInitialized: setup !== undefined,
    serverId: setup?.config.serverId ?? null,
    certificates,
    authCertRegistered: registered,
    ready: step === 'ready',
    step,
    next: NEXT[step],
  };
}

/** A set-up gateway's status: every step done. */
export function initializedStatus(config: GatewayConfig): InitializationStatus {
  return {
    anchorImported: true,
    serverOwnerInitialized: true,
    serverCodeInitialized: true,
    serverId: config.serverId,
    certificates: { auth: true, signing: true },
    authCertRegistered: true,
    ready: true,
    step: 'ready',
    next: NEXT.ready,
  };
}

/**
 * Writes the bare gateway's `gateway.yaml` for the owner and server code entered: the ports it
 * was started with, keystores not there yet. Checked whole (the id, the anchor's instance, the
 * file as `gateway run` would load it); a refusal leaves no file behind.
 */
export function writeInitialConfig(dir: string, body: z.infer<typeof Initialization>, instance: string, spec: Omit<GatewayFileSpec, 'owner' | 'serverCode'>): GatewayConfig {
  const file = join(dir, 'gateway.yaml');
  if (existsSync(file)) throw new KeyWorkflowError(409, 'already-initialized', `the gateway is initialised already (${file})`);
  try {
    parseSecurityServerId(`${body.ownerId}/${body.serverCode}`, 'server');
  } catch (err) {
    // The identifier error's field names the part at fault: the server code's, or one of the owner's.
    const field = err instanceof IdentifierError && err.field === 'server server code' ? 'serverCode' : 'ownerId';
    throw new KeyWorkflowError(400, 'invalid', (err as Error).message, field);
  }
  if (body.ownerId.split('/')[0] !== instance)
    throw new KeyWorkflowError(400, 'other-instance', `the owner ${body.ownerId} is not of instance ${instance}, which the configuration anchor is for`, 'ownerId');
  writeGatewayConfig(dir, { ...spec, owner: body.ownerId, serverCode: body.serverCode });
  try {
    return loadGatewayConfig(file, { inSetup: true });
  } catch (err) {
    rmSync(file, { force: true });
    throw new KeyWorkflowError(400, 'invalid', (err as Error).message);
  }
}
