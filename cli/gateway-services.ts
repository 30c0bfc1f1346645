import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { failCommand } from './context.js';
import { gatewayApi } from './gateway-api.js';

/**
 * `camdx gateway service add|refresh|list|remove`: services of the gateway's owner from OpenAPI
 * documents, each a call to the running gateway's console API (`/api/v1/service-descriptions`
 * at its `listen.console`, with `<stateDir>/admin-token`), so the console and the command line
 * share one code path, its checks and its audit log.
 */

interface Endpoint {
  readonly method: string;
  readonly path: string;
}
interface Described {
  readonly serviceId: string;
  readonly url: string | null;
  readonly endpoints: Endpoint[];
  readonly status: string;
  readonly requestId?: number;
}
interface Diff {
  readonly added: Endpoint[];
  readonly removed: Endpoint[];
  readonly kept: Endpoint[];
  readonly rightsOnRemoved: Array<{ right: Endpoint & { subject: string }; endpoint: Endpoint }>;
  readonly applied: boolean;
  readonly status?: string;
}

/** The document's source for the request body: a local file's text, or a URL the gateway fetches itself. */
function sourceOf(o: { openapi?: string; openapiUrl?: string }): { document: string } | { url: string } {
  if ((o.openapi === undefined) === (o.openapiUrl === undefined)) failCommand('give the OpenAPI document once: --openapi FILE or --openapi-url URL', 2);
  if (o.openapiUrl !== undefined) return { url: o.openapiUrl };
  try {
    return { document: readFileSync(o.openapi!, 'utf8') };
  } catch (err) {
    failCommand(`cannot read ${o.openapi}: ${(err as Error).message}`, 2);
  }
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const endpointLine = (e: Endpoint) => `${e.method} ${e.path}`;
const idPath = (id: string) => `/service-descriptions/${encodeURIComponent(id)}`;

function printDescribed(d: Described): void {
  say(`${d.serviceId}: ${d.status}${d.requestId === undefined ? '' : ` (request ${d.requestId})`}${d.url ? `, base URL ${d.url}` : ''}`);
  for (const e of d.endpoints) say(`  ${endpointLine(e)}`);
}

/** `+ POST /orders`, `- GET /orders/*`, `  GET /orders`; then each right that blocks the refresh. */
function printDiff(d: Diff): void {
  for (const e of d.added) say(`+ ${endpointLine(e)}`);
  for (const e of d.removed) say(`- ${endpointLine(e)}`);
  for (const e of d.kept) say(`  ${endpointLine(e)}`);
  for (const { right, endpoint } of d.rightsOnRemoved) say(`! the right of ${right.subject} (${right.method} ${right.path}) names the removed ${endpointLine(endpoint)}`);
  say(d.applied ? `applied: serviceUpdate sent to central, ${d.status ?? 'in progress'}` : `not applied${d.rightsOnRemoved.length > 0 ? ': remove the rights marked ! first' : ' (--apply sends it)'}`);
}

export function registerGatewayServices(gateway: Command): void {
  const service = gateway.command('service').description("the owner's services from OpenAPI documents (X-Road's service descriptions), through the running gateway's console API");
  service
    .command('add <serviceId>')
    .description('add a service from its OpenAPI 3.0/3.1 document: its endpoints from the document, its base URL into gateway.yaml, serviceAdd to central')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .requiredOption('--base-url <url>', "the provider system's base URL (endpoints are relative to it; servers[] is not used)")
    .option('--openapi <file>', 'the document (YAML or JSON), uploaded')
    .option('--openapi-url <url>', 'where the gateway fetches the document once (http(s), at most 10 MB, no redirects)')
    .action(async (serviceId: string, o: { config: string; baseUrl: string; openapi?: string; openapiUrl?: string }) => {
      printDescribed(await gatewayApi<Described>(o.config, 'POST', '/service-descriptions', { serviceId, baseUrl: o.baseUrl, ...sourceOf(o) }));
    });
  service
    .command('refresh <serviceId>')
    .description('show the endpoint diff a new document makes; --apply sends it (refused while an access right names a removed endpoint)')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .option('--openapi <file>', 'the new document (YAML or JSON), uploaded')
    .option('--openapi-url <url>', 'where the gateway fetches it once')
    .option('--apply', 'send the change to central (serviceUpdate)', false)
    .action(async (serviceId: string, o: { config: string; openapi?: string; openapiUrl?: string; apply: boolean }) => {
      printDiff(await gatewayApi<Diff>(o.config, 'POST', `${idPath(serviceId)}/refresh`, { ...sourceOf(o), apply: o.apply }));
    });
  service
    .command('list')
    .description("the gateway's services with their endpoints and status ('in progress' until the global configuration carries the last change)")
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (o: { config: string }) => {
      const list = await gatewayApi<Described[]>(o.config, 'GET', '/service-descriptions');
      if (list.length === 0) say('no services');
      list.forEach(printDescribed);
    });
  service
    .command('remove <serviceId>')
    .description('serviceRemove to central; the service leaves gateway.yaml once central accepts it')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (serviceId: string, o: { config: string }) => {
      printDescribed(await gatewayApi<Described>(o.config, 'DELETE', idPath(serviceId)));
    });
}
