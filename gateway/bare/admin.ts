import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InitializationStatus } from './initialization.js';

/**
 * A bare gateway's admin port, for Prometheus and central's monitor: `/health` answers 503
 * `uninitialised` with the step it is at, `/metrics` one gauge saying so. The whole gateway's
 * admin server takes the port over once it starts (gateway/gateway.ts).
 */
export function bareAdminHandler(status: () => InitializationStatus): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    req.resume();
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const s = status();
    if (req.method === 'GET' && path === '/health')
      return send(res, 503, 'application/json; charset=utf-8', JSON.stringify({ status: 'uninitialised', step: s.step, server: s.serverId, next: s.next }));
    if (req.method === 'GET' && path === '/metrics') {
      const text =
        `# HELP camdx_gateway_initialised Whether the security server is set up and carries traffic (0 while its set-up is under way).\n# TYPE ` +
        `camdx_gateway_initialised gauge\ncamdx_gateway_initialised${s.serverId ? `{server="${s.serverId}"}` : ''} 0\n`;
      return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', text);
    }
    send(
      res,
      404,
      'application/json; charset=utf-8',
      JSON.stringify({ error: 'not-found', message: 'the gateway is not set up yet: its admin port serves /health and /metrics; set it up in the console (/console)' }),
    );
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
