import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { failCommand } from './context.js';
import { gatewayApi } from './gateway-api.js';

/**
 * `camdx gateway key|csr|cert …`: each a call to the running gateway's console API (`/api/v1`
 * at its `listen.console`, with `<stateDir>/admin-token`), so the console and the command line
 * take one code path, its checks and its audit log.
 */

const say = (line: string) => process.stdout.write(`${line}\n`);

/** The enrolment token from a file, or stdin with `-`: never on the command line, where `ps` shows it. */
function readToken(file: string): string {
  const token = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  if (!token) failCommand(`no enrolment token in ${file === '-' ? 'stdin' : file}`, 2);
  return token;
}

async function writeOrPrint(text: string, out: string | undefined, what: string): Promise<void> {
  if (!out) return void process.stdout.write(text);
  const { writeFileAtomic } = await import('../common/files.js');
  writeFileAtomic(out, text);
  say(`${what} written to ${out}`);
}

export function registerGatewayKeys(gateway: Command): void {
  const key = gateway.command('key').description("the gateway's keys: new auth or signing keys waiting for a certificate, and those in use");
  key
    .command('new')
    .description('make a new key (pending until its certificate is imported)')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .requiredOption('--role <role>', 'auth (TLS between gateways) or signing (messages)')
    .action(async (o: { config: string; role: string }) => {
      const body = await gatewayApi(o.config, 'POST', '/keys', { role: o.role });
      say(
        `key ${String(body.id)}: a new ${String(body.keyType)} ${String(body.role)} key, waiting for its certificate${body.replaced ? ` (it replaces the pending key ${String(body.replaced)})` : ''}`,
      );
    });
  key
    .command('list')
    .description('the keys in use, with their certificates, and the keys waiting for one')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (o: { config: string }) => {
      const body = await gatewayApi(o.config, 'GET', '/keys');
      for (const k of body as unknown as Array<{ id: string; role: string; state: string; certificate?: { serial: string; notAfter: string; ocsp?: { good: boolean }; registered?: boolean } }>) {
        const c = k.certificate;
        const ocsp = c?.ocsp ? `, OCSP ${c.ocsp.good ? 'good' : 'not good'}` : '';
        const registered = c?.registered === undefined ? '' : c.registered ? ', registered' : ', not registered';
        say(`${k.id} ${k.role.padEnd(7)} ${k.state.padEnd(7)}${c ? ` serial ${c.serial}, until ${c.notAfter}${ocsp}${registered}` : ''}`);
      }
    });

  gateway
    .command('csr <keyId>')
    .description("the CSR of a pending key (PEM): its subject is this gateway's owner, and for auth its server")
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .option('--out <file>', 'write the CSR here instead of stdout')
    .action(async (keyId: string, o: { config: string; out?: string }) => {
      const body = await gatewayApi(o.config, 'POST', `/keys/${encodeURIComponent(keyId)}/csrs`, {});
      await writeOrPrint(String(body.csr), o.out, `${String(body.role)} CSR for ${String(body.subject)}`);
    });

  const cert = gateway.command('cert').description("the gateway's certificates: from the RA, imported, registered");
  cert
    .command('request <keyId>')
    .description("send a pending key's CSR to the RA with an enrolment token (camdx central … enrolments); prints the certificate")
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .requiredOption('--token-file <file>', 'the enrolment token (- for stdin)')
    .requiredOption('--ra <url>', 'the PKI whose RA issues it (e.g. http://127.0.0.1:8100)')
    .option('--out <file>', 'write the certificate chain here instead of stdout')
    .action(async (keyId: string, o: { config: string; tokenFile: string; ra: string; out?: string }) => {
      const body = await gatewayApi(o.config, 'POST', `/keys/${encodeURIComponent(keyId)}/certificate-requests`, { enrolmentToken: readToken(o.tokenFile), raUrl: o.ra });
      await writeOrPrint(String(body.certificate), o.out, `${String(body.role)} certificate serial ${String(body.serial)} (until ${String(body.notAfter)})`);
    });
  cert
    .command('import <file>')
    .description("import a pending key's certificate (PEM) with gateway init's checks; the running gateway switches to it")
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (file: string, o: { config: string }) => {
      const body = await gatewayApi(o.config, 'POST', '/token-certificates', { certificate: readFileSync(file, 'utf8') });
      const ocsp = body.ocsp as { status: string } | undefined;
      say(
        `${body.state === 'saved' ? 'saved' : 'imported'}: the ${String(body.role)} certificate is serial ${String(body.serial)} (hash ${String(body.hash)}, ` +
          `until ${String(body.notAfter)}, OCSP ${ocsp?.status ?? 'unknown'})`,
      );
      if (body.state === 'saved') say("the authentication certificate in use stays in use until central's configuration lists the new one; then the gateway switches");
      if (body.role === 'auth') say(`next: camdx gateway cert register ${String(body.hash)} --config ${o.config}`);
    });
  cert
    .command('register <hash>')
    .description('registerAuthCert with central for the authentication certificate in use (its SHA-256)')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (hash: string, o: { config: string }) => {
      const body = await gatewayApi(o.config, 'POST', `/token-certificates/${encodeURIComponent(hash)}/register`);
      say(
        body.outcome === 'submitted'
          ? `registerAuthCert for ${String(body.server)} waits for central's operator (camdx central request list / approve)`
          : `registerAuthCert for ${String(body.server)} at ${String(body.address)}: ${String(body.outcome)}`,
      );
    });
}
