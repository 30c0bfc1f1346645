import type { Command } from 'commander';
import { parsePort } from './context.js';

export function registerEcho(program: Command): void {
  program
    .command('echo')
    .description('run a small HTTP service that answers JSON describing each request it got: method, path, headers, body size (a stand-in provider system)')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks one)', '9000')
    .option('--mirror', 'answer with the body received instead (a large one with {"bytes": N}); what npm run bench measures against')
    .action(async (o: { host: string; port: string; mirror?: boolean }) => {
      const { createEchoServer, createJsonEchoServer } = await import('../sim/echo.js');
      const { listen } = await import('../common/http.js');
      const server = o.mirror ? createEchoServer() : createJsonEchoServer();
      const port = await listen(server, parsePort(o.port), o.host);
      process.stdout.write(`echo service listening on http://${o.host}:${port}\n`);
      const stop = () => server.close(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
