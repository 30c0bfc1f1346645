import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { writeFileAtomic, writeSecretFile } from '../common/files.js';
import { CentralAdminClient, CentralApiError, idPath } from '../central/admin-client.js';
import { centralLayout, DEFAULT_CENTRAL_PORT, DEFAULT_CONSOLE_PORT, readCentralSettings } from '../central/settings.js';
import { DEFAULT_PKI_PORT } from '../certs/settings.js';
import { registerCentralUsers } from './central-users.js';
import { cliContext, failCommand, parseCount, parsePort, stateDirOf, type GlobalOptions } from './context.js';

interface ClientOptions {
  url?: string;
  tokenFile?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** "POST /api/2.0/kyc/info" → {method, path}. */
function parseEndpoint(text: string): { method: string; path: string } {
  const match = /^(\*|[A-Z]+)\s+(\/\S*)$/.exec(text.trim());
  if (!match) throw new Error(`endpoint '${text}' must look like 'POST /path/**' (method or *, then a path)`);
  return { method: match[1]!, path: match[2]! };
}

export function registerCentral(program: Command): void {
  const central = program
    .command('central')
    .description('the central server: registry, access rights, signed global configuration')
    .option('--url <url>', "central's console URL, where /api is (default: consoleUrl in the state directory's central settings)")
    .option('--token-file <file>', 'admin token file (default: <state>/central/admin-token, or env CAMDX_CENTRAL_TOKEN)')
    .option('--json', 'print JSON');
  const globals = () => program.opts<GlobalOptions>();
  const opts = () => central.opts<ClientOptions>();

  /** The state directory's central server; a command run where there is none says where it looked. */
  function centralState() {
    const stateDir = stateDirOf(globals());
    const layout = centralLayout(stateDir);
    if (!existsSync(layout.settings))
      failCommand(
        `no central server in the state directory ${stateDir} (no ${layout.settings}): start the network there with npm start, point CAMDX_STATE_DIR / ` +
          `--state-dir at its state directory, or give --url and --token-file`,
      );
    return { stateDir, layout };
  }

  function client(): CentralAdminClient {
    const o = opts();
    const { layout } = o.url && (o.tokenFile || process.env.CAMDX_CENTRAL_TOKEN) ? { layout: centralLayout(stateDirOf(globals())) } : centralState();
    const url = o.url ?? readCentralSettings(layout.settings).consoleUrl;
    const token = o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : (process.env.CAMDX_CENTRAL_TOKEN ?? readFileSync(layout.adminToken, 'utf8').trim());
    return new CentralAdminClient(url, token, process.env.USER ? process.env.USER.replace(/[^A-Za-z0-9._@-]/g, '').slice(0, 64) || undefined : undefined);
  }

  /** Runs one API call and prints its result as JSON or through `human`. */
  function api<T>(call: (c: CentralAdminClient) => Promise<T>, human: (result: T) => string) {
    return async () => {
      try {
        const result = await call(client());
        process.stdout.write(opts().json ? `${JSON.stringify(result ?? null, null, 2)}\n` : `${human(result)}\n`);
      } catch (err) {
        if (err instanceof CentralApiError) failCommand(`${err.message}${err.status ? ` (HTTP ${err.status} ${err.error}${err.field ? `, field ${err.field}` : ''})` : ''}`);
        throw err;
      }
    };
  }
  const lines = <T>(items: T[], fmt: (item: T) => string) => (items.length ? items.map(fmt).join('\n') : '(none)');
  /**
   * What a command that issues an enrolment token prints: the token alone on stdout (so
   * `… > sign.token` captures just it), or written to `--out FILE` (0600); the rest on stderr.
   */
  const withToken = (done: string, label: string, out: string | undefined, e?: { token: string; expiresAt: string }) => {
    if (!e) return done;
    if (out) {
      writeSecretFile(out, `${e.token}\n`);
      return `${done}\n${label} enrolment token (until ${e.expiresAt}) written to ${out}`;
    }
    process.stderr.write(`${done}\n${label} enrolment token (until ${e.expiresAt}) follows on stdout\n`);
    return e.token;
  };
  const tokenOut = ['--out <file>', 'write the enrolment token to this file (0600) instead of stdout'] as const;

  registerCentralUsers(central, client);

  central
    .command('init')
    .description('create the central server state: settings, configuration signing key, anchor, admin token')
    .option('--instance <id>', 'X-Road instance', 'CAMDX')
    .option('--public-url <url>', 'URL gateways use to reach central', `http://127.0.0.1:${DEFAULT_CENTRAL_PORT}`)
    .option('--console-url <url>', "URL of central's console and admin API", `http://127.0.0.1:${DEFAULT_CONSOLE_PORT}`)
    .option('--console-host-name <name...>', 'Host names the console answers besides loopback (e.g. central)')
    .option('--pki-url <url>', 'PKI service that issues enrolment tokens', `http://127.0.0.1:${DEFAULT_PKI_PORT}`)
    .option('--pki-admin-token-file <file>', "the PKI's admin token (default: <state>/pki/admin-token)")
    .option('--no-pki', 'do not issue enrolment tokens')
    .option('--auto-approve', 'approve management requests as soon as they verify (simulation mode)')
    .option('--conf-expiry <seconds>', 'global configuration validity', '600')
    .action(
      async (o: {
        instance: string;
        publicUrl: string;
        consoleUrl: string;
        consoleHostName?: string[];
        pkiUrl: string;
        pkiAdminTokenFile?: string;
        pki: boolean;
        autoApprove?: boolean;
        confExpiry: string;
      }) => {
        const ctx = cliContext(globals());
        const { initCentral } = await import('../central/central.js');
        const result = initCentral(ctx.stateDir, {
          instance: o.instance,
          publicUrl: o.publicUrl,
          consoleUrl: o.consoleUrl,
          console: { hostNames: o.consoleHostName ?? [] },
          autoApprove: !!o.autoApprove,
          confExpirySeconds: Number(o.confExpiry),
          ...(o.pki ? { pki: { url: o.pkiUrl, adminTokenFile: o.pkiAdminTokenFile ?? `${ctx.stateDir}/pki/admin-token` } } : {}),
        });
        process.stdout.write(result.created.length ? `created ${result.created.join(', ')} under ${centralLayout(ctx.stateDir).dir}\n` : 'central already initialised\n');
        if (result.adminToken) process.stdout.write(`admin token (shown once; kept in ${centralLayout(ctx.stateDir).adminToken}): ${result.adminToken}\n`);
      },
    );

  central
    .command('serve')
    .description('run the central server')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'public port: global configuration, management requests', String(DEFAULT_CENTRAL_PORT))
    .option('--console-host <address>', 'address the console listener binds (default: --host)')
    .option('--console-port <port>', 'console listener: /console, /api, /dashboard, /catalogue, /metrics', String(DEFAULT_CONSOLE_PORT))
    .action(async (o: { host: string; port: string; consoleHost?: string; consolePort: string }) => {
      const ctx = cliContext(globals(), 'central');
      const { startCentral } = await import('../central/central.js');
      const running = await startCentral({ stateDir: ctx.stateDir, host: o.host, port: parsePort(o.port), console: { host: o.consoleHost ?? o.host, port: parsePort(o.consolePort) }, log: ctx.log });
      process.stdout.write(`central server listening on ${running.url}, console on ${running.consoleUrl}/console (global configuration version ${running.publisher.current.version})\n`);
      const stop = async () => {
        await running.stop();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  central
    .command('anchor')
    .description('print (or write) the configuration anchor gateways need to trust this central server')
    .option('--out <file>', 'write it to a file')
    .option('--refresh', 'first rebuild it from the current signing certificate only (ends a rotation overlap)')
    .option('--min-version <n>', 'the oldest configuration version a new gateway accepts (default: the last one central signed; 0 for no floor)')
    .action(async (o: { out?: string; refresh?: boolean; minVersion?: string }) => {
      const { stateDir } = centralState();
      if (o.refresh) (await import('../central/central.js')).refreshAnchor(stateDir);
      const { lastSignedVersion, withVersionFloor } = await import('../central/globalconf/signing-key.js');
      const layout = centralLayout(stateDir);
      let floor: number;
      try {
        floor = o.minVersion === undefined ? lastSignedVersion(layout) : parseCount(o.minVersion, 0);
      } catch (err) {
        failCommand(`--min-version: ${(err as Error).message}`, 2);
      }
      // A gateway installed with this anchor and no cached copy refuses anything older than today's version.
      const anchor = withVersionFloor(readFileSync(layout.anchor, 'utf8'), floor);
      if (!o.out) return void process.stdout.write(anchor);
      writeFileAtomic(o.out, anchor);
      const parsed = JSON.parse(anchor) as { instance: string; centralUrl: string; certificates: string[] };
      process.stdout.write(
        `configuration anchor written to ${o.out}: instance ${parsed.instance}, central ${parsed.centralUrl}, ${parsed.certificates.length} signing ` +
          `certificate(s)${floor ? `, configuration version ${floor} or later` : ''}\n`,
      );
    });

  central
    .command('rotate-signing-key')
    .description('replace the configuration signing key; distribute the new anchor to every gateway, then restart central')
    .option('--keep-old', 'keep the old certificate in the new anchor, so gateways that get it early still accept the old signatures')
    .action(async (o: { keepOld?: boolean }) => {
      const { rotateSigningKey } = await import('../central/central.js');
      rotateSigningKey(cliContext(globals()).stateDir, !!o.keepOld);
      process.stdout.write('new signing key created; `camdx central anchor` prints the new anchor\n');
    });

  const member = central.command('member').description('members (organisations)');
  member.command('list').action(
    api(
      (c) => c.call<Array<{ id: string; name: string; subsystems: string[] }>>('GET', '/members'),
      (r) => lines(r, (m) => `${m.id}  ${m.name}  [${m.subsystems.join(', ')}]`),
    ),
  );
  member
    .command('add <id>')
    .description('add INSTANCE/CLASS/CODE; prints the enrolment token for its signing certificate')
    .requiredOption('--name <name>', "the member's organisation name")
    .option(...tokenOut)
    .action((id: string, o: { name: string; out?: string }) =>
      api(
        (c) => c.call<{ member: { id: string }; enrolment?: { signing: { token: string; expiresAt: string } } }>('POST', '/members', { id, name: o.name }),
        (r) => withToken(`added member ${r.member.id}`, 'signing certificate', o.out, r.enrolment?.signing),
      )(),
    );
  member.command('show <id>').action((id: string) =>
    api(
      (c) => c.call('GET', `/members/${idPath(id)}`),
      (r) => JSON.stringify(r, null, 2),
    )(),
  );
  member
    .command('rename <id>')
    .requiredOption('--name <name>')
    .action((id: string, o: { name: string }) =>
      api(
        (c) => c.call('PATCH', `/members/${idPath(id)}`, { name: o.name }),
        () => `renamed ${id}`,
      )(),
    );
  member.command('remove <id>').action((id: string) =>
    api(
      (c) => c.call('DELETE', `/members/${idPath(id)}`),
      () => `removed member ${id}`,
    )(),
  );
  member
    .command('enrol <id>')
    .description("issue a new enrolment token for the member's signing certificate")
    .option(...tokenOut)
    .action((id: string, o: { out?: string }) =>
      api(
        (c) => c.call<{ signing: { token: string; expiresAt: string } }>('POST', `/members/${idPath(id)}/enrolments`),
        (r) => withToken(`new enrolment for ${id}`, 'signing certificate', o.out, r.signing),
      )(),
    );

  const subsystem = central.command('subsystem').description('subsystems of members');
  subsystem.command('add <id>').action((id: string) =>
    api(
      (c) => c.call('POST', '/subsystems', { id }),
      () => `added subsystem ${id}`,
    )(),
  );
  subsystem.command('remove <id>').action((id: string) =>
    api(
      (c) => c.call('DELETE', `/subsystems/${idPath(id)}`),
      () => `removed subsystem ${id}`,
    )(),
  );

  const server = central.command('server').description('security servers');
  server.command('list').action(
    api(
      (c) => c.call<Array<{ id: string; address: string; authCertHashes: string[]; clients: string[]; monitoringUrl?: string | null }>>('GET', '/servers'),
      (r) => lines(r, (s) => `${s.id}  ${s.address}  auth certs: ${s.authCertHashes.length}  clients: ${s.clients.join(', ') || '-'}${s.monitoringUrl ? `  monitored at ${s.monitoringUrl}` : ''}`),
    ),
  );
  server
    .command('add <id>')
    .description('add INSTANCE/CLASS/CODE/SERVERCODE; prints the enrolment token for its authentication certificate')
    .requiredOption('--address <host:port>', 'where other gateways reach it')
    .option('--monitoring-url <url>', "base URL of its admin port (/metrics, /health) for central's dashboard, e.g. http://127.0.0.1:9082")
    .option(...tokenOut)
    .action((id: string, o: { address: string; monitoringUrl?: string; out?: string }) =>
      api(
        (c) =>
          c.call<{ server: { id: string }; enrolment?: { auth: { token: string; expiresAt: string } } }>('POST', '/servers', {
            id,
            address: o.address,
            ...(o.monitoringUrl !== undefined ? { monitoringUrl: o.monitoringUrl } : {}),
          }),
        (r) => withToken(`added security server ${r.server.id}`, 'authentication certificate', o.out, r.enrolment?.auth),
      )(),
    );
  server.command('show <id>').action((id: string) =>
    api(
      (c) => c.call('GET', `/servers/${idPath(id)}`),
      (r) => JSON.stringify(r, null, 2),
    )(),
  );
  server
    .command('set-address <id>')
    .requiredOption('--address <host:port>')
    .action((id: string, o: { address: string }) =>
      api(
        (c) => c.call('PATCH', `/servers/${idPath(id)}`, { address: o.address }),
        () => `${id} is now at ${o.address}`,
      )(),
    );
  server
    .command('set-monitoring-url <id> [url]')
    .description("where central's monitoring reads the server's /metrics and /health (its admin port); --clear stops monitoring it")
    .option('--clear', 'remove the monitoring address')
    .action((id: string, url: string | undefined, o: { clear?: boolean }) => {
      if (!url === !o.clear) failCommand('give either a URL or --clear');
      return api(
        (c) => c.call('PATCH', `/servers/${idPath(id)}`, { monitoringUrl: o.clear ? null : url }),
        () => (o.clear ? `${id} is no longer monitored` : `${id} is monitored at ${url}`),
      )();
    });
  server.command('remove <id>').action((id: string) =>
    api(
      (c) => c.call('DELETE', `/servers/${idPath(id)}`),
      () => `removed security server ${id}`,
    )(),
  );
  server
    .command('enrol <id>')
    .description('issue a new enrolment token for the server authentication certificate')
    .option(...tokenOut)
    .action((id: string, o: { out?: string }) =>
      api(
        (c) => c.call<{ auth: { token: string; expiresAt: string } }>('POST', `/servers/${idPath(id)}/enrolments`),
        (r) => withToken(`new enrolment for ${id}`, 'authentication certificate', o.out, r.auth),
      )(),
    );

  const clientCmd = central.command('client').description('client subsystems of security servers');
  clientCmd.command('add <server> <subsystem>').action((s: string, sub: string) =>
    api(
      (c) => c.call('POST', `/servers/${idPath(s)}/clients`, { client: sub }),
      () => `${sub} is a client of ${s}`,
    )(),
  );
  clientCmd.command('remove <server> <subsystem>').action((s: string, sub: string) =>
    api(
      (c) => c.call('DELETE', `/servers/${idPath(s)}/clients/${idPath(sub)}`),
      () => `${sub} is no longer a client of ${s}`,
    )(),
  );

  const service = central.command('service').description('REST services');
  service.command('list').action(
    api(
      (c) => c.call<Array<{ id: string; endpoints: Array<{ method: string; path: string }>; timestampSynchronously: boolean }>>('GET', '/services'),
      (r) => lines(r, (s) => `${s.id}  ${s.endpoints.map((e) => `${e.method} ${e.path}`).join(', ') || '(no endpoints)'}${s.timestampSynchronously ? '  [sync timestamps]' : ''}`),
    ),
  );
  const serviceOptions = (cmd: Command) =>
    cmd
      .option('--endpoint <"METHOD /path">', 'an endpoint, repeatable', collect)
      .option('--openapi <file>', 'OpenAPI document to publish')
      .option('--timestamp-sync', 'timestamp every message synchronously')
      .option('--no-timestamp-sync', 'timestamp in batches');
  serviceOptions(service.command('add <id>').description('add INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')).action((id: string, o: { endpoint?: string[]; openapi?: string; timestampSync?: boolean }) =>
    api(
      (c) =>
        c.call('POST', '/services', {
          id,
          endpoints: (o.endpoint ?? []).map(parseEndpoint),
          ...(o.openapi ? { openApi: readFileSync(o.openapi, 'utf8') } : {}),
          timestampSynchronously: !!o.timestampSync,
        }),
      () => `added service ${id}`,
    )(),
  );
  serviceOptions(service.command('update <id>').description('replace endpoints, OpenAPI document or timestamping mode')).action(
    (id: string, o: { endpoint?: string[]; openapi?: string; timestampSync?: boolean }) =>
      api(
        (c) =>
          c.call('PATCH', `/services/${idPath(id)}`, {
            ...(o.endpoint ? { endpoints: o.endpoint.map(parseEndpoint) } : {}),
            ...(o.openapi ? { openApi: readFileSync(o.openapi, 'utf8') } : {}),
            ...(o.timestampSync === undefined ? {} : { timestampSynchronously: o.timestampSync }),
          }),
        () => `updated service ${id}`,
      )(),
  );
  service.command('show <id>').action((id: string) =>
    api(
      (c) => c.call('GET', `/services/${idPath(id)}`),
      (r) => JSON.stringify(r, null, 2),
    )(),
  );
  service.command('remove <id>').action((id: string) =>
    api(
      (c) => c.call('DELETE', `/services/${idPath(id)}`),
      () => `removed service ${id}`,
    )(),
  );

  const right = central.command('right').description('access rights (deny by default)');
  right
    .command('list')
    .option('--service <id>', 'only rights on this service')
    .option('--subject <id>', 'only rights of this subsystem or group')
    .action((o: { service?: string; subject?: string }) =>
      api(
        async (c) =>
          (await c.call<Array<{ id: number; subject: string; service: string; method: string; path: string }>>('GET', '/access-rights')).filter(
            (r) => (!o.service || r.service === o.service) && (!o.subject || r.subject === o.subject),
          ),
        (r) => lines(r, (x) => `#${x.id}  ${x.subject} → ${x.service}  ${x.method} ${x.path}`),
      )(),
    );
  right
    .command('add <subject> <service>')
    .description('let a subsystem (INSTANCE/CLASS/CODE/SUBSYSTEM) or global group (INSTANCE/GROUP) call a service')
    .option('--method <method>', 'HTTP method or *', '*')
    .option('--path <pattern>', "path pattern: '*' one segment, '**' any", '/**')
    .action((subject: string, svc: string, o: { method: string; path: string }) =>
      api(
        (c) => c.call<{ id: number }>('POST', '/access-rights', { subject, service: svc, method: o.method, path: o.path }),
        (r) => `added access right #${r.id}: ${subject} → ${svc} ${o.method} ${o.path}`,
      )(),
    );
  right.command('remove <id>').action((id: string) =>
    api(
      (c) => c.call('DELETE', `/access-rights/${encodeURIComponent(id)}`),
      () => `removed access right #${id}`,
    )(),
  );

  const group = central.command('group').description('global groups');
  group.command('list').action(
    api(
      (c) => c.call<Array<{ id: string; description: string; members: string[] }>>('GET', '/groups'),
      (r) => lines(r, (g) => `${g.id}  ${g.description}  [${g.members.join(', ')}]`),
    ),
  );
  group
    .command('add <code>')
    .requiredOption('--description <text>')
    .action((code: string, o: { description: string }) =>
      api(
        (c) => c.call('POST', '/groups', { code, description: o.description }),
        () => `added group ${code}`,
      )(),
    );
  group.command('remove <code>').action((code: string) =>
    api(
      (c) => c.call('DELETE', `/groups/${encodeURIComponent(code)}`),
      () => `removed group ${code}`,
    )(),
  );
  group.command('add-member <code> <subsystem>').action((code: string, sub: string) =>
    api(
      (c) => c.call('POST', `/groups/${encodeURIComponent(code)}/members`, { member: sub }),
      () => `${sub} joined ${code}`,
    )(),
  );
  group.command('remove-member <code> <subsystem>').action((code: string, sub: string) =>
    api(
      (c) => c.call('DELETE', `/groups/${encodeURIComponent(code)}/members/${idPath(sub)}`),
      () => `${sub} left ${code}`,
    )(),
  );

  const ca = central.command('ca').description('approved certification authorities');
  ca.command('list').action(
    api(
      (c) => c.call<Array<{ name: string; ocspUrl: string }>>('GET', '/approved-cas'),
      (r) => lines(r, (x) => `${x.name}  OCSP ${x.ocspUrl}`),
    ),
  );
  ca.command('add')
    .requiredOption('--name <name>')
    .requiredOption('--cert <file>', 'issuing CA certificate (PEM)')
    .requiredOption('--root <file>', 'its root CA certificate (PEM)')
    .requiredOption('--ocsp-url <url>')
    .action((o: { name: string; cert: string; root: string; ocspUrl: string }) =>
      api(
        (c) => c.call('POST', '/approved-cas', { name: o.name, certificate: readFileSync(o.cert, 'utf8'), rootCertificate: readFileSync(o.root, 'utf8'), ocspUrl: o.ocspUrl }),
        () => `approved CA ${o.name}`,
      )(),
    );
  ca.command('remove <name>').action((name: string) =>
    api(
      (c) => c.call('DELETE', `/approved-cas/${encodeURIComponent(name)}`),
      () => `removed CA ${name}`,
    )(),
  );
  const tsa = central.command('tsa').description('approved timestamping authorities');
  tsa.command('list').action(
    api(
      (c) => c.call<Array<{ name: string; url: string }>>('GET', '/approved-tsas'),
      (r) => lines(r, (x) => `${x.name}  ${x.url}`),
    ),
  );
  tsa
    .command('add')
    .requiredOption('--name <name>')
    .requiredOption('--url <url>')
    .requiredOption('--cert <file>', 'TSA certificate (PEM)')
    .action((o: { name: string; url: string; cert: string }) =>
      api(
        (c) => c.call('POST', '/approved-tsas', { name: o.name, url: o.url, certificate: readFileSync(o.cert, 'utf8') }),
        () => `approved TSA ${o.name}`,
      )(),
    );
  tsa.command('remove <name>').action((name: string) =>
    api(
      (c) => c.call('DELETE', `/approved-tsas/${encodeURIComponent(name)}`),
      () => `removed TSA ${name}`,
    )(),
  );
  central
    .command('approve-pki')
    .description("approve the configured PKI's CamDX CA and TSA")
    .action(
      api(
        (c) => c.call<{ approvedCa: string; approvedTsa: string }>('POST', '/approved/from-pki'),
        (r) => `CA: ${r.approvedCa}; TSA: ${r.approvedTsa}`,
      ),
    );

  const request = central.command('request').description('management requests from security servers');
  request.command('list').action(
    api(
      (c) => c.call<Array<{ id: number; type: string; server: string; subject: string; status: string; createdAt: string }>>('GET', '/management-requests'),
      (r) => lines(r, (x) => `#${x.id}  ${x.status.padEnd(8)}  ${x.type.padEnd(16)}  ${x.server}  ${x.subject}  ${x.createdAt}`),
    ),
  );
  request.command('approve <id>').action((id: string) =>
    api(
      (c) => c.call('POST', `/management-requests/${encodeURIComponent(id)}/approve`),
      () => `approved request #${id}`,
    )(),
  );
  request
    .command('decline <id>')
    .option('--reason <text>')
    .action((id: string, o: { reason?: string }) =>
      api(
        (c) => c.call('POST', `/management-requests/${encodeURIComponent(id)}/decline`, o.reason ? { reason: o.reason } : {}),
        () => `declined request #${id}`,
      )(),
    );

  central
    .command('audit')
    .description('who changed what, when')
    .option('--after <id>', 'only records after this id', '0')
    .option('--limit <n>', 'at most this many records', '100')
    .action((o: { after: string; limit: string }) =>
      api(
        (c) =>
          c.call<Array<{ id: number; at: string; actor: string; action: string; target: string; detail: unknown }>>(
            'GET',
            `/audit?after=${encodeURIComponent(o.after)}&limit=${encodeURIComponent(o.limit)}`,
          ),
        (r) => lines(r, (x) => `#${x.id}  ${x.at}  ${x.actor.padEnd(14)}  ${x.action.padEnd(22)}  ${x.target}${x.detail ? `  ${JSON.stringify(x.detail)}` : ''}`),
      )(),
    );
}
