#!/usr/bin/env node
// The `qbo-sync` CLI. Runs the TypeScript sources through tsx, so `npm ci` is the only set-up step.
'use strict';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../src/cli/main.ts');
