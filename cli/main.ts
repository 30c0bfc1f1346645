import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { registerAclTest } from './acl-test.js';
import { registerBench, registerReferenceProxy } from './bench.js';
import { registerCamdigikey } from './camdigikey.js';
import { registerCentral } from './central.js';
import { registerChaos } from './chaos.js';
import { registerEcho } from './echo.js';
import { registerFault } from './fault.js';
import { registerGateway } from './gateway.js';
import { registerLog } from './log.js';
import { registerMoi } from './moi.js';
import { registerNode } from './node.js';
import { registerPki } from './pki.js';
import { registerStart } from './start.js';

// Started by another camdx process (common/child.ts): leave when it goes, without keeping it alive.
if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

const program = new Command('camdx')
  .description('camdx-sim: a CamDX (X-Road style) data exchange network on one machine')
  .option('--state-dir <dir>', 'where keys, databases and logs live (env CAMDX_STATE_DIR, default ./var)')
  .option('--log-level <level>', 'fatal, error, warn, info, debug (env CAMDX_LOG_LEVEL, default info)')
  .showHelpAfterError()
  .exitOverride();

registerStart(program);
registerNode(program);
registerPki(program);
registerCentral(program);
registerGateway(program);
registerEcho(program);
registerCamdigikey(program);
registerMoi(program);
registerFault(program);
registerLog(program);
registerBench(program);
registerReferenceProxy(program);
registerAclTest(program);
registerChaos(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof InvalidArgumentError) process.exit(2);
  process.stderr.write(`camdx: ${(err as Error).message}\n`);
  process.exit(1);
}
