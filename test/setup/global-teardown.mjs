// Closes the AWS emulators started by global-setup.mjs (same process, so the handle is on globalThis).
export default async function globalTeardown() {
  const emulators = globalThis.__QBO_SYNC_AWS_EMULATORS__;
  globalThis.__QBO_SYNC_AWS_EMULATORS__ = undefined;
  if (emulators) await emulators.close();
}
