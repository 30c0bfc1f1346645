import { DEFAULT_POPULATION, personAt } from '../members/population/population.js';
import type { ProvisionedNetwork } from './network.js';
import { clientOf, KYC_SERVICE, MEMBERS } from './topology.js';

const demobank = clientOf(MEMBERS.find((m) => m.key === 'demobank')!);

/** A citizen of the civil registry, as Demo Bank's onboarding form would submit them. */
export function sampleUserInfo() {
  const p = personAt(DEFAULT_POPULATION.seed, 0);
  return { idNumber: p.idNumber, lastNameEn: p.lastNameEn, firstNameEn: p.firstNameEn, gender: p.gender, dob: p.dob };
}

/** Ready-to-paste calls through Demo Bank's gateway: one its rights allow, one they deny. */
export function exampleCalls(network: ProvisionedNetwork): string[] {
  const base = `${network.gateways.demobank.consumerUrl}/r1/${KYC_SERVICE}/api/2.0/kyc`;
  const headers = `-H 'X-Road-Client: ${demobank}' -H 'Content-Type: application/json'`;
  return [
    `# allowed: Demo Bank checks a citizen's data with MOI`,
    `curl -s -X POST ${base}/info ${headers} -d '${JSON.stringify(sampleUserInfo())}'`,
    `# denied (Server.ServerProxy.AccessDenied): Demo Bank may not use MOI's ID-card OCR`,
    `curl -s -X POST ${base}/ocr-idcard ${headers} -d '{}'`,
  ];
}
