/**
 * Builds the real CDK app for a test, with cdk.json's context (feature flags, stage defaults) so the tests see
 * the same template `cdk synth` produces, into a temporary outdir removed by `dispose()`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { addQboSyncStack, readCdkJson } from '../../lib/app.js';
import type { QboSyncStack } from '../../lib/qbo-sync-stack.js';

export interface TestApp {
  app: App;
  stack: QboSyncStack;
  outdir: string;
  dispose(): void;
}

/** A fresh app with `context` layered over cdk.json's, and the qbo-sync stack in it (bundled, not synthesised). */
export function buildTestApp(context: Record<string, unknown> = {}, extra?: (app: App) => void): TestApp {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'qbo-sync-cdk-'));
  const app = new App({ outdir, context: { ...readCdkJson().context, ...context } });
  const stack = addQboSyncStack(app);
  extra?.(app);
  return { app, stack, outdir, dispose: () => fs.rmSync(outdir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------- template helpers

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown }>;

export function resourcesOf(template: Template): Resources {
  return (template.toJSON() as { Resources: Resources }).Resources;
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild as { logicalId: string } | undefined;
  if (child === undefined) throw new Error('construct has no default child');
  return stack.resolve(child.logicalId) as string;
}

/** Every IAM statement attached (inline or via AWS::IAM::Policy) to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const resources = resourcesOf(template);
  const statements: Statement[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = (resource.Properties?.Roles ?? []) as unknown[];
    if (!roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    const document = resource.Properties?.PolicyDocument as { Statement: Statement[] };
    statements.push(...document.Statement);
  }
  const role = resources[roleLogicalId];
  const inline = (role?.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  for (const policy of inline) statements.push(...policy.PolicyDocument.Statement);
  return statements;
}

export function actionsOf(statements: readonly Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
}

/** Statements whose Resource mentions the given logical id (Ref or GetAtt) or literal text. */
export function statementsTouching(statements: readonly Statement[], needle: string): Statement[] {
  return statements.filter((s) => JSON.stringify(s.Resource).includes(needle));
}

export { Match, Template };
