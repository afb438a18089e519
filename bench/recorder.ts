/**
 * A recording loopback proxy in front of a stand-in (it runs beside the stand-ins, never in the measured process):
 * it forwards each request unchanged and keeps the exact bytes of what the benchmark's CPU floor needs — the bodies
 * Stripe answered and the bodies sent to QuickBooks — so the floor parses and writes the very same text
 * (CONTRACT §10, `cpuVsFloor`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedExchange {
  method: string;
  path: string;
  status: number;
  /** The request body as sent (empty for a GET). */
  requestBody: string;
  /** The answer's body as received. */
  responseBody: string;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: use it instead of the target's origin. */
  readonly url: string;
  readonly exchanges: RecordedExchange[];
  /** Whether to keep bodies (off: forwards only). */
  recording: boolean;
  clear(): void;
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const origin = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const exchanges: RecordedExchange[] = [];
  const proxy = {
    url: '',
    exchanges,
    recording: false,
    clear: () => {
      exchanges.length = 0;
    },
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const requestBytes = Buffer.concat(chunks);
      const headers = { ...req.headers, host: origin.host };
      const upstream = http.request(
        { host: origin.hostname, port: origin.port, method: req.method, path: req.url, headers, agent },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            const body = Buffer.concat(parts);
            if (proxy.recording) {
              exchanges.push({
                method: req.method ?? 'GET',
                path: (req.url ?? '/').split('?')[0] ?? '/',
                status: answer.statusCode ?? 0,
                requestBody: requestBytes.toString('utf8'),
                responseBody: body.toString('utf8'),
              });
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(body);
          });
          answer.on('error', () => res.destroy());
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(requestBytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      agent.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}
