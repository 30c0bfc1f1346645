import { close, listen } from '../../common/http.js';
import { createEchoServer, type EchoRequest } from '../../sim/echo.js';

export type EchoCall = EchoRequest;

export interface EchoService {
  readonly url: string;
  readonly calls: EchoCall[];
  close(): Promise<void>;
}

/** The echo information system, in the test process, recording every call. */
export async function startEcho(): Promise<EchoService> {
  const calls: EchoCall[] = [];
  const server = createEchoServer((r) => calls.push(r));
  const port = await listen(server, 0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}`, calls, close: () => close(server) };
}
