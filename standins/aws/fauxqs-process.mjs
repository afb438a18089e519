// Runs fauxqs (ESM-only) in its own process, for callers that cannot `import()` it (e.g. code inside a jest worker,
// whose CommonJS transform turns import() into require()). Prints {"port":N} once listening on 127.0.0.1, and exits
// when its stdin closes (the parent went away) or on SIGTERM.
import { buildApp } from 'fauxqs';

const app = buildApp({ logger: false, defaultRegion: process.env.AWS_REGION || 'us-east-1' });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
);

const stop = () => app.close().finally(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
