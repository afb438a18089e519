/**
 * The stage settings of one deployment, read once from CDK context (`cdk.json` "context", or `-c key=value`
 * on the command line) and validated here, so the stack never reads `process.env` or the account it deploys to.
 *
 * `-c` values arrive as strings, `cdk.json` values as JSON: both are accepted ("5" and 5).
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { z } from 'zod';

const RETENTION_DAYS = new Set<number>(
  Object.values(RetentionDays).filter((value): value is number => typeof value === 'number'),
);

const intInRange = (key: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${key} must be a whole number` })
    .int({ error: `${key} must be a whole number` })
    .min(min, { error: `${key} must be at least ${min}` })
    .max(max, { error: `${key} must be at most ${max}` });

const flag = (key: string) =>
  z.union([z.boolean(), z.enum(['true', 'false']).transform((text) => text === 'true')], {
    error: `${key} must be true or false`,
  });

/** Every context key the app reads, with its default. */
export const StageContextSchema = z.object({
  /** Deployment stage: part of the default stack name and of every resource's tags. */
  stage: z
    .string({ error: 'stage must be a text value' })
    .regex(/^[a-z][a-z0-9-]{0,19}$/, {
      error: 'stage must be 1-20 characters: a-z, 0-9 and "-", starting with a letter',
    })
    .default('dev'),
  /** CloudFormation stack name (what `--stack NAME` takes); default `qbo-sync-<stage>`. */
  stackName: z
    .string({ error: 'stackName must be a text value' })
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, {
      error: 'stackName must be 1-64 characters: letters, digits and "-", starting with a letter',
    })
    .optional(),
  /** Where the alarm topic sends email (a subscription to confirm); none when unset. */
  alarmEmail: z.email({ error: 'alarmEmail must be an email address' }).optional(),
  /** Most deposit-builder instances at once (the event source mapping's MaximumConcurrency, 2-1000). */
  workerConcurrency: intInRange('workerConcurrency', 2, 1000).default(5),
  /**
   * Concurrency reserved for the deposit builder (default: workerConcurrency, so the event source mapping is never
   * throttled and other functions in the account never starve it); 0 = none (an account whose concurrency quota is
   * still the new-account 10 cannot reserve any, as AWS keeps 100 unreserved).
   */
  workerReservedConcurrency: intInRange('workerReservedConcurrency', 0, 1000).optional(),
  /** Messages per deposit-builder invocation (FIFO allows at most 10). */
  workerBatchSize: intInRange('workerBatchSize', 1, 10).default(1),
  /** The deposit-builder's timeout; the queue's visibility timeout is 6 times this. */
  workerTimeoutSeconds: intInRange('workerTimeoutSeconds', 30, 900).default(180),
  /** CloudWatch Logs retention of every function's log group and of the API access log. */
  logRetentionDays: z.coerce
    .number({ error: 'logRetentionDays must be a number of days' })
    .refine((days) => RETENTION_DAYS.has(days), {
      error: `logRetentionDays must be one of ${[...RETENTION_DAYS].sort((a, b) => a - b).join(', ')}`,
    })
    .default(RetentionDays.ONE_MONTH),
  /** POWERTOOLS_LOG_LEVEL of every function. */
  logLevel: z
    .enum(['DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'logLevel must be DEBUG, INFO, WARN or ERROR' })
    .default('INFO'),
  /**
   * The Stripe mode the deployment serves (STRIPE_MODE): the webhook ignores events of the other mode. It must match
   * the Stripe secret key (`sk_live_…` → live); the daily catch-up fails (its alarm) when it does not.
   */
  stripeMode: z.enum(['live', 'test'], { error: 'stripeMode must be live or test' }).default('test'),
  /** Hour (UTC) of the daily catch-up run. */
  catchUpHourUtc: intInRange('catchUpHourUtc', 0, 23).default(6),
  /** Steady-state requests per second the API accepts (stage throttling). */
  apiRateLimit: intInRange('apiRateLimit', 1, 10000).default(50),
  /** Burst the API accepts above the rate. */
  apiBurstLimit: intInRange('apiBurstLimit', 1, 5000).default(100),
  /**
   * Whether the stack sets the account's API Gateway CloudWatch Logs role (needed once per account and
   * region for API access logs). Turn off when another stack in the account already manages it.
   */
  apiCloudWatchRole: flag('apiCloudWatchRole').default(true),
  /** DynamoDB deletion protection on every table (the tables are retained on stack deletion either way). */
  deletionProtection: flag('deletionProtection').default(true),
  /**
   * QuickBooks API origin (QBO_API_BASE), e.g. https://sandbox-quickbooks.api.intuit.com for a sandbox
   * company; unset means production.
   */
  qboApiBase: z
    .url({ protocol: /^https$/, error: 'qboApiBase must be an https:// origin' })
    .refine((url) => new URL(url).pathname === '/' && !url.endsWith('/'), {
      error:
        'qboApiBase must be an origin without a path or trailing slash, e.g. https://sandbox-quickbooks.api.intuit.com',
    })
    .optional(),
  /**
   * Prefix of the support console's Cognito hosted sign-in domain, `<prefix>.auth.<region>.amazoncognito.com`;
   * unique within the region. Default `qbo-sync-<stage>-<account id>`.
   */
  consoleDomainPrefix: z
    .string({ error: 'consoleDomainPrefix must be a text value' })
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, {
      error: 'consoleDomainPrefix must be 1-63 characters: a-z, 0-9 and "-", not starting or ending with "-"',
    })
    .refine((prefix) => !/aws|amazon|cognito/.test(prefix), {
      error: 'consoleDomainPrefix must not contain "aws", "amazon" or "cognito" (Cognito refuses them)',
    })
    .optional(),
  /** Writes esbuild's metafile beside each bundle (for `scripts/bundle-sizes.ts` and the tests only). */
  bundleMetafile: flag('bundleMetafile').default(false),
});

export type StageContext = z.infer<typeof StageContextSchema>;

export interface StageConfig extends Omit<StageContext, 'stackName' | 'workerReservedConcurrency'> {
  stackName: string;
  /** Resolved: workerConcurrency unless set; 0 = none. */
  workerReservedConcurrency: number;
}

/** Reads and validates the stage settings from the app's context; throws one error naming every bad key. */
export function readStageConfig(scope: Construct): StageConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(StageContextSchema.shape)) {
    const value: unknown = scope.node.tryGetContext(key);
    if (value !== undefined && value !== null && value !== '') raw[key] = value;
  }
  const parsed = StageContextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.');
      return `  - ${key}: ${issue.message} (got ${JSON.stringify(raw[key])})`;
    });
    throw new Error(
      `Invalid CDK context:\n${problems.join('\n')}\n` +
        'Fix it in cdk.json "context" or on the command line, e.g. `npx cdk deploy -c workerConcurrency=5`.',
    );
  }
  const { stackName, workerReservedConcurrency, ...rest } = parsed.data;
  const reserved = workerReservedConcurrency ?? rest.workerConcurrency;
  if (reserved > 0 && reserved < rest.workerConcurrency) {
    throw new Error(
      `Invalid CDK context:\n  - workerReservedConcurrency: ${reserved} is below workerConcurrency (${rest.workerConcurrency}), ` +
        'so the queue would invoke the deposit builder more often than it may run and be throttled. ' +
        'Set workerReservedConcurrency ≥ workerConcurrency, or 0 for none.',
    );
  }
  return { ...rest, stackName: stackName ?? `qbo-sync-${rest.stage}`, workerReservedConcurrency: reserved };
}
