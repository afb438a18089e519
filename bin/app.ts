#!/usr/bin/env node
// The CDK app (cdk.json: "npx tsx bin/app.ts"). No logic here: lib/app.ts builds the stack from context.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addQboSyncStack } from '../lib/app.js';

const app = new App();
addQboSyncStack(app);
// cdk-nag (v3: a policy-validation plugin): an unacknowledged finding fails `cdk synth` and `cdk deploy`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
