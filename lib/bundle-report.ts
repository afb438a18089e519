/**
 * What is inside each function's bundle, read from the staged assets of a synthesised app: the size of
 * `index.mjs` and its source map, and, when the app was built with context `bundleMetafile=true`, esbuild's
 * metafile broken down by npm package (bytes each contributes to the minified output).
 *
 * Used by `scripts/bundle-sizes.ts` (a table for people) and test/cdk/bundles.test.ts (the webhook bundle must
 * carry no QuickBooks code).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack, Stage } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IConstruct } from 'constructs';
import { z } from 'zod';

const MetafileSchema = z.object({
  inputs: z.record(z.string(), z.object({ bytes: z.number() })),
  outputs: z.record(
    z.string(),
    z.object({ bytes: z.number(), inputs: z.record(z.string(), z.object({ bytesInOutput: z.number() })) }),
  ),
});

export interface PackageShare {
  /** npm package name (`@scope/name`), or `(project)` for the repository's own files. */
  readonly name: string;
  /** Bytes it contributes to the minified bundle. */
  readonly bytes: number;
}

export interface BundleReport {
  /** The function's construct path below the stack, e.g. `Webhook/Function`. */
  readonly id: string;
  /** The staged asset directory. */
  readonly assetDir: string;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  /** Biggest first; absent when the app was synthesised without `bundleMetafile`. */
  readonly packages?: readonly PackageShare[];
  /** Every input file esbuild read (from the metafile), relative to the project root. */
  readonly inputs?: readonly string[];
}

/** The npm package an esbuild input path belongs to (the innermost `node_modules/<pkg>`). */
export function packageOf(inputPath: string): string {
  const normalised = inputPath.replaceAll('\\', '/');
  const marker = 'node_modules/';
  const at = normalised.lastIndexOf(marker);
  if (at === -1) return '(project)';
  const parts = normalised.slice(at + marker.length).split('/');
  const first = parts[0] ?? '';
  return first.startsWith('@') ? `${first}/${parts[1] ?? ''}` : first;
}

/** The names of `forbidden` packages that appear in a report's inputs. */
export function forbiddenPackagesIn(report: BundleReport, forbidden: readonly string[]): string[] {
  if (report.inputs === undefined) {
    throw new Error(
      `No metafile for ${report.id}: synthesise with context bundleMetafile=true to inspect bundle inputs.`,
    );
  }
  const present = new Set(report.inputs.map(packageOf));
  return forbidden.filter((name) => present.has(name));
}

/** One report per `NodejsFunction` under `scope`, in construct order. Needs the app's assets staged. */
export function bundleReports(scope: IConstruct): BundleReport[] {
  const reports: BundleReport[] = [];
  for (const construct of scope.node.findAll()) {
    if (!(construct instanceof NodejsFunction)) continue;
    const stack = Stack.of(construct);
    const cfn = construct.node.defaultChild;
    if (!(cfn instanceof CfnFunction)) throw new Error(`${construct.node.path} has no CfnFunction`);
    const code = stack.resolve(cfn.code) as { s3Key?: unknown };
    const key = typeof code.s3Key === 'string' ? /^([0-9a-f]{64})\.zip$/.exec(code.s3Key) : null;
    if (key === null) throw new Error(`${construct.node.path}: expected an asset S3 key "<hash>.zip"`);
    const stage = Stage.of(stack);
    if (stage === undefined) throw new Error(`${stack.node.path} is not in an App or Stage`);
    // AssetStaging copies each bundle to <assetOutdir>/asset.<hash> while the construct is built.
    const assetDir = path.join(stage.assetOutdir, `asset.${key[1]}`);
    reports.push(readAssetDir(construct.node.path.slice(stack.node.path.length + 1), assetDir));
  }
  return reports;
}

function readAssetDir(id: string, assetDir: string): BundleReport {
  const bundle = path.join(assetDir, 'index.mjs');
  if (!fs.existsSync(bundle)) throw new Error(`${id}: no index.mjs in ${assetDir} (was the asset bundled?)`);
  const map = path.join(assetDir, 'index.mjs.map');
  const base = {
    id,
    assetDir,
    bundleBytes: fs.statSync(bundle).size,
    sourceMapBytes: fs.existsSync(map) ? fs.statSync(map).size : 0,
  };
  const metaPath = path.join(assetDir, 'index.meta.json');
  if (!fs.existsSync(metaPath)) return base;

  const parsed = MetafileSchema.safeParse(JSON.parse(fs.readFileSync(metaPath, 'utf8')));
  if (!parsed.success) throw new Error(`${metaPath} is not an esbuild metafile: ${parsed.error.message}`);
  const output = Object.entries(parsed.data.outputs).find(([file]) => file.endsWith('index.mjs'))?.[1];
  if (output === undefined) throw new Error(`${metaPath} lists no index.mjs output`);
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(input);
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  return {
    ...base,
    packages: [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
    inputs: Object.keys(parsed.data.inputs),
  };
}
