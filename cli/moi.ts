import type { Command } from 'commander';
import { cliContext, failCommand, parsePort, type GlobalOptions } from './context.js';

// Declarations only: the service, canvas and tesseract load when a command runs.
const DEFAULT_PORT = '4300';

interface OutputOptions {
  out?: string;
}

async function writeOut(data: Buffer, o: OutputOptions, what: string): Promise<void> {
  if (!o.out) {
    if (process.stdout.isTTY) failCommand(`refusing to write ${what} to a terminal; use --out <file> or redirect`);
    process.stdout.write(data);
    return;
  }
  const { writeFileAtomic } = await import('../common/files.js');
  writeFileAtomic(o.out, data);
  process.stderr.write(`${what} written to ${o.out} (${data.length} bytes)\n`);
}

/** The registry in `<state>/moi`, created on first use (the same one `camdx moi serve` uses). */
async function openRegistry(program: Command) {
  const { join } = await import('node:path');
  const { CivilRegistry } = await import('../members/moi/registry.js');
  const ctx = cliContext(program.opts<GlobalOptions>(), 'moi');
  return new CivilRegistry(join(ctx.stateDir, 'moi', 'registry.db'));
}

async function citizenOrFail(program: Command, idNumber: string) {
  const registry = await openRegistry(program);
  const citizen = registry.find(idNumber);
  registry.close();
  if (!citizen) failCommand(`no person with ID number ${idNumber} in the civil registry (try: camdx moi people)`);
  return citizen;
}

export function registerMoi(program: Command): void {
  const moi = program.command('moi').description('the Ministry of Interior Open KYC provider: civil registry, ID-card OCR, face and liveness checks');

  moi
    .command('serve')
    .description('run the Open KYC service (POST /api/2.0/kyc/...)')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks one)', DEFAULT_PORT)
    .action(async (o: { host: string; port: string }) => {
      const { join } = await import('node:path');
      const { startMoiService } = await import('../members/moi/server.js');
      const ctx = cliContext(program.opts<GlobalOptions>(), 'moi');
      const running = await startMoiService({ stateDir: join(ctx.stateDir, 'moi'), host: o.host, port: parsePort(o.port), log: ctx.log });
      process.stdout.write(`MOI Open KYC listening on ${running.url} (${running.kyc.registry.size} people in the registry)\n`);
      const stop = () => void running.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  moi
    .command('people')
    .description('list people of the civil registry (to pick sample cards from)')
    .option('--offset <n>', 'skip this many', '0')
    .option('--limit <n>', 'how many', '10')
    .option('--json', 'print JSON')
    .action(async (o: { offset: string; limit: string; json?: boolean }) => {
      const registry = await openRegistry(program);
      const people = registry.list(Math.max(0, Number(o.offset) || 0), Math.min(1000, Math.max(1, Number(o.limit) || 10)));
      registry.close();
      if (o.json) process.stdout.write(`${JSON.stringify(people, null, 2)}\n`);
      else for (const p of people) process.stdout.write(`${p.idNumber}  ${p.lastNameEn} ${p.firstNameEn}  ${p.gender}  born ${p.dob}\n`);
    });

  moi
    .command('sample-card <idNumber>')
    .description('render a sample ID card scan (front and back, correct TD1 MRZ) for a registry person')
    .option('--format <format>', 'png or jpeg', 'png')
    .option('--quality <n>', 'JPEG quality 1–100', '90')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (idNumber: string, o: OutputOptions & { format: string; quality: string }) => {
      if (o.format !== 'png' && o.format !== 'jpeg') failCommand('--format must be png or jpeg');
      const citizen = await citizenOrFail(program, idNumber);
      const { renderSampleCard } = await import('../members/moi/card/render.js');
      const { holderOf } = await import('../members/moi/registry.js');
      await writeOut(renderSampleCard(holderOf(citizen), o.format as 'png' | 'jpeg', Number(o.quality)), o, 'sample card');
    });

  moi
    .command('sample-liveness <idNumber>')
    .description('render a sample liveness recording (Motion-JPEG) of a registry face performing actions')
    .option('--actions <list>', 'comma-separated: 1 turn left, 2 turn right, 3 nod', '1,2,3')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (idNumber: string, o: OutputOptions & { actions: string }) => {
      const actions = o.actions.split(',').map((a) => a.trim());
      if (actions.length === 0 || actions.some((a) => !['1', '2', '3'].includes(a))) failCommand('--actions takes 1, 2 and 3, comma-separated');
      const citizen = await citizenOrFail(program, idNumber);
      const { sampleRecording } = await import('../members/moi/liveness/sample.js');
      await writeOut(sampleRecording(citizen, actions as Array<'1' | '2' | '3'>), o, 'liveness recording');
    });

  moi
    .command('photo <idNumber>')
    .description("write a registry person's photo (PNG)")
    .option('--size <px>', 'square size in pixels', '256')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (idNumber: string, o: OutputOptions & { size: string }) => {
      const citizen = await citizenOrFail(program, idNumber);
      const { renderFace } = await import('../members/population/face.js');
      await writeOut(renderFace(citizen, Number(o.size)), o, 'photo');
    });
}
