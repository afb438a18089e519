/**
 * Lists each Lambda bundle's size and its biggest npm packages, from esbuild's metafile:
 *
 *   npx tsx scripts/bundle-sizes.ts          # a table
 *   npx tsx scripts/bundle-sizes.ts --json   # the same as JSON
 *
 * Builds the app in-process (cdk.json context + bundleMetafile=true) into a temporary directory, so it needs
 * no AWS credentials, no network and no `cdk synth`. Exits 1 if the webhook bundle contains QuickBooks code.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { addQboSyncStack, readCdkJson } from '../lib/app.js';
import { bundleReports, forbiddenPackagesIn } from '../lib/bundle-report.js';

const QUICKBOOKS_PACKAGES = ['intuit-oauth', 'axios'];
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'qbo-sync-bundles-'));
try {
  const app = new App({ outdir, context: { ...readCdkJson().context, bundleMetafile: true } });
  const reports = bundleReports(addQboSyncStack(app));
  const webhook = reports.find((r) => r.id === 'Webhook/Function');
  const leaked = webhook === undefined ? [] : forbiddenPackagesIn(webhook, QUICKBOOKS_PACKAGES);

  if (process.argv.includes('--json')) {
    const json = reports.map(({ id, bundleBytes, sourceMapBytes, packages }) => ({
      function: id.replace(/\/Function$/, ''),
      bundleBytes,
      sourceMapBytes,
      packages,
    }));
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    for (const r of reports) {
      const top = (r.packages ?? [])
        .slice(0, 6)
        .map((p) => `${p.name} ${kib(p.bytes)}`)
        .join(', ');
      process.stdout.write(
        `${r.id.replace(/\/Function$/, '').padEnd(15)} ${kib(r.bundleBytes).padStart(11)}  (map ${kib(r.sourceMapBytes)})\n` +
          `${''.padEnd(15)} ${top}\n`,
      );
    }
  }
  if (leaked.length > 0) {
    process.stderr.write(
      `The webhook bundle contains QuickBooks code (${leaked.join(', ')}): keep it out.\n`,
    );
    process.exitCode = 1;
  }
} finally {
  fs.rmSync(outdir, { recursive: true, force: true });
}
