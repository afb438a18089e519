// Starts the shared AWS emulators (DynamoDB via dynalite-plus, SQS via fauxqs, the Secrets Manager stub) once for
// the whole jest run, on 127.0.0.1 with random ports, and exports their endpoints to the test workers through
// process.env (workers inherit it). The harness is TypeScript: tsx's scoped tsImport loads it without registering
// a global loader. Each test file provisions its own resources under a unique prefix.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const started = Date.now();
  const { startAwsEmulators, localAwsEnv } = await tsImport('../../standins/aws/index.ts', import.meta.url);
  const emulators = await startAwsEmulators();
  Object.assign(process.env, localAwsEnv(emulators.endpoints, process.env.AWS_REGION || 'us-east-1'));
  globalThis.__QBO_SYNC_AWS_EMULATORS__ = emulators;
  if (process.env.QBO_SYNC_DEBUG_SETUP) {
    process.stderr.write(
      `\nAWS emulators ready in ${Date.now() - started} ms: ${JSON.stringify(emulators.endpoints)}\n`,
    );
  }
}
