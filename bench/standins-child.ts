/**
 * The benchmark's second process: the AWS emulators and the Stripe and QuickBooks stand-ins, driven over IPC by
 * bench/host.ts (`startStandInsInChild`). Keeping them here means the benchmark process measures only the deposit
 * builder's own CPU time and memory. Exits when its parent disconnects.
 */
import type { HostMessage, HostRequest, StandInHost } from './host.js';
import { startStandInsInProcess } from './host.js';

function send(message: HostMessage): void {
  process.send?.(message);
}

async function handle(host: StandInHost, request: HostRequest): Promise<unknown> {
  switch (request.op) {
    case 'prepare':
      return host.prepare(request.request);
    case 'clearRequests':
      return host.clearRequests(request.capture);
    case 'captured':
      return host.captured();
    case 'setPace':
      return host.setPace(request.pace);
    case 'stats':
      return host.stats();
    case 'cpuUsage':
      return host.cpuUsage();
    case 'close':
      await host.close();
      setImmediate(() => process.exit(0));
      return undefined;
  }
}

async function main(): Promise<void> {
  if (!process.send) {
    process.stderr.write(
      'bench/standins-child.ts is started by the benchmark (npm run bench), not by hand\n',
    );
    process.exit(2);
  }
  let host: StandInHost;
  try {
    host = await startStandInsInProcess({ aws: true });
  } catch (error) {
    send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  process.on('message', (raw: unknown) => {
    const request = raw as HostRequest;
    handle(host, request).then(
      (result) => send({ type: 'reply', id: request.id, ok: true, result }),
      (error: unknown) =>
        send({
          type: 'reply',
          id: request.id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    );
  });
  process.on('disconnect', () => {
    void host.close().finally(() => process.exit(0));
  });
  send({ type: 'ready', endpoints: host.endpoints });
}

void main();
