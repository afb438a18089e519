#!/usr/bin/env node
// Runs a TypeScript file of this project through tsx: `node bin/run-ts.cjs bench/run.ts [args…]`.
'use strict';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const path = require('node:path');
const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bin/run-ts.cjs <file.ts> [args…]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(file), ...rest];
require('tsx/cjs');
require(path.resolve(file));
