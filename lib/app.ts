import * as fs from 'node:fs';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { z } from 'zod';
import { readStageConfig } from './config.js';
import { PROJECT_ROOT } from './constructs/node-function.js';
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

const CdkJsonSchema = z.object({
  app: z.string(),
  notices: z.boolean().optional(),
  context: z.record(z.string(), z.unknown()),
});

/**
 * The repository's cdk.json. Tools that build the app in-process (tests, scripts/bundle-sizes.ts) pass its
 * `context` to `new App({ context })`, so they see the feature flags and defaults `cdk synth` sees.
 */
export function readCdkJson(): z.infer<typeof CdkJsonSchema> {
  const file = path.join(PROJECT_ROOT, 'cdk.json');
  const parsed = CdkJsonSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a valid cdk.json: ${parsed.error.message}`);
  return parsed.data;
}
