/**
 * Where a command acts (CONTRACT §8): a running local mode (`--local`, found through its data folder in the working
 * directory; the default when one runs there) or a deployed stack (`--stack NAME`, through its CloudFormation
 * outputs). Either way the target becomes the environment the Lambdas get (table names, queue URLs, secret ARNs,
 * endpoints), and the CLI builds the same adapters from it.
 */
import { describeError } from '../app/log.js';
import {
  LocalModeNotRunningError,
  type LocalTarget,
  localTargetEnv,
  readLocalTarget,
} from '../local/target.js';
import { CliError, CliUsageError } from './errors.js';

export interface TargetFlags {
  local?: boolean;
  stack?: string;
  dataDir?: string;
}

export interface ResolvedTarget {
  kind: 'local' | 'stack';
  /** `local mode at http://127.0.0.1:3000` or `stack qbo-sync-prod`. */
  description: string;
  /** The variables to set for the adapters (they win over the caller's environment). */
  env: Record<string, string>;
  local?: LocalTarget;
  /** The stack's outputs, by key. */
  outputs?: Record<string, string>;
}

/** Stack output → the Lambda environment variable it feeds (docs/ARCHITECTURE.md). */
export const STACK_OUTPUT_ENV: Readonly<Record<string, string>> = {
  TenantsTable: 'TENANTS_TABLE',
  CustomersTable: 'CUSTOMERS_TABLE',
  LedgerTable: 'LEDGER_TABLE',
  IdempotencyTable: 'IDEMPOTENCY_TABLE',
  QueueUrl: 'QUEUE_URL',
  DlqUrl: 'DLQ_URL',
  StripeSecretArn: 'STRIPE_SECRET_ARN',
  QboAppSecretArn: 'QBO_APP_SECRET_ARN',
  QboTokenSecretPrefix: 'QBO_TOKEN_SECRET_PREFIX',
};

/** Whether a target was asked for explicitly. */
export function hasTargetFlag(flags: TargetFlags): boolean {
  return flags.local === true || (flags.stack !== undefined && flags.stack !== '');
}

export async function resolveTarget(
  flags: TargetFlags,
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedTarget> {
  if (flags.local && flags.stack !== undefined) {
    throw new CliUsageError('--local and --stack name two different targets: give one of them');
  }
  if (flags.stack !== undefined) return await stackTarget(flags.stack, env);
  try {
    const local = readLocalTarget(cwd, flags.dataDir);
    checkLocalCredentials(local, env);
    return {
      kind: 'local',
      description: `local mode at ${local.url}`,
      env: localTargetEnv(local),
      local,
    };
  } catch (error) {
    if (error instanceof LocalModeNotRunningError) {
      throw new CliError(
        flags.local ? error.message : `${error.message}; or act on a deployed stack with --stack NAME`,
      );
    }
    throw error;
  }
}

async function stackTarget(name: string, env: NodeJS.ProcessEnv): Promise<ResolvedTarget> {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(name) && !name.startsWith('arn:')) {
    throw new CliUsageError(`--stack "${name}" is not a CloudFormation stack name (letters, digits and "-")`);
  }
  const outputs = await stackOutputs(name, env);
  const missing = Object.keys(STACK_OUTPUT_ENV).filter((key) => !outputs[key]);
  if (missing.length > 0) {
    throw new CliError(
      `stack ${name} lacks the output${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: it is not a qbo-sync stack, or an older version`,
      'deploy this version with `npx cdk deploy`, or check --stack',
    );
  }
  const targetEnv: Record<string, string> = {};
  for (const [key, variable] of Object.entries(STACK_OUTPUT_ENV))
    targetEnv[variable] = outputs[key] as string;
  // The stack's callback route is the redirect URI its Intuit app registers.
  if (outputs.CallbackUrl && !env.QBO_REDIRECT_URI) targetEnv.QBO_REDIRECT_URI = outputs.CallbackUrl;
  return { kind: 'stack', description: `stack ${name}`, env: targetEnv, outputs };
}

/** The stack's outputs by key, via CloudFormation DescribeStacks (region and credentials from the environment). */
export async function stackOutputs(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string>> {
  const { CloudFormationClient, DescribeStacksCommand } =
    require('@aws-sdk/client-cloudformation') as typeof import('@aws-sdk/client-cloudformation');
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const client = new CloudFormationClient(region ? { region } : {});
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: name }));
    const stack = Stacks[0];
    if (stack === undefined)
      throw new CliError(`stack ${name} was not found`, 'check --stack, AWS_REGION and AWS_PROFILE');
    const out: Record<string, string> = {};
    for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue) out[o.OutputKey] = o.OutputValue;
    return out;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = describeError(error);
    if (/does not exist/i.test(message)) {
      throw new CliError(
        `stack ${name} does not exist${region ? ` in ${region}` : ''}`,
        'check --stack and the region (AWS_REGION / AWS_PROFILE); `npx cdk deploy` creates it',
      );
    }
    throw new CliError(
      `could not read the outputs of stack ${name}: ${message}`,
      'check your AWS credentials and region (AWS_PROFILE, AWS_REGION)',
    );
  } finally {
    client.destroy();
  }
}

/** A credential local mode took from its own environment (never written to local.json), and where it points. */
interface LocalCredential {
  variable: 'STRIPE_SECRET_KEY' | 'QBO_CLIENT_ID' | 'QBO_CLIENT_SECRET';
  placeholder: string;
}

/**
 * The credentials a command on this local mode needs from the caller's environment: those local mode read from
 * its own environment (a real Stripe key, a real Intuit app) are never written to disk, so a second terminal must
 * export them too. Throws, naming each variable to export, when one is missing.
 * @throws CliError with the `export …` line as its hint
 */
export function checkLocalCredentials(local: LocalTarget, env: NodeJS.ProcessEnv = process.env): void {
  const needed: LocalCredential[] = [];
  if (local.credentials.stripeSecretKey === null)
    needed.push({
      variable: 'STRIPE_SECRET_KEY',
      placeholder: '<the sk_test_… key local mode was started with>',
    });
  if (local.credentials.qboClientId === null)
    needed.push({ variable: 'QBO_CLIENT_ID', placeholder: "<your Intuit app's client id>" });
  if (local.credentials.qboClientSecret === null)
    needed.push({ variable: 'QBO_CLIENT_SECRET', placeholder: "<your Intuit app's client secret>" });
  const missing = needed.filter((c) => !env[c.variable]);
  if (missing.length === 0) return;
  const names = missing.map((c) => c.variable);
  const services = [
    ...(names.includes('STRIPE_SECRET_KEY') ? [`a real Stripe (${local.endpoints.stripe})`] : []),
    ...(names.some((n) => n.startsWith('QBO_'))
      ? [`a real QuickBooks app (${local.endpoints.quickbooks})`]
      : []),
  ];
  throw new CliError(
    `missing setting${names.length > 1 ? 's' : ''}: ${names.join(', ')}. Local mode at ${local.url} runs on ${services.join(' and ')} with credentials from its own environment, which it never writes to disk, so this terminal needs ${names.length > 1 ? 'them' : 'it'} too`,
    `export ${missing.map((c) => `${c.variable}=${c.placeholder}`).join(' ')}, then run the command again`,
    { missing: names },
  );
}
