import type { App } from 'aws-cdk-lib';
import { readStageConfig } from './config.js';
import { QboSyncStack } from './qbo-sync-stack.js';

/**
 * Adds the stage's stack to `app`, configured from the app's context (lib/config.ts). No `env`: the stack is
 * environment-agnostic and deploys to whatever account and region the caller's credentials point at.
 */
export function addQboSyncStack(app: App): QboSyncStack {
  const config = readStageConfig(app);
  return new QboSyncStack(app, config.stackName, {
    stackName: config.stackName,
    description: `momence-qbo-sync (${config.stage}): Stripe payouts to QuickBooks Online deposits`,
    config,
  });
}
