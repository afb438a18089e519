import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { LambdaIntegration, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
  UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { StageConfig } from '../config.js';
import { NodeFunction } from './node-function.js';
import type { PayoutQueue } from './payout-queue.js';
import type { SyncSecrets } from './sync-secrets.js';
import type { SyncTables } from './sync-tables.js';

export interface SupportConsoleProps {
  /** The stack's API: the console is served at its root (`ANY /`, `ANY /{proxy+}`). */
  readonly api: RestApi;
  /** The API's stage name (part of the console's URL and of Cognito's callback URL). */
  readonly stageName: string;
  readonly tables: SyncTables;
  readonly secrets: SyncSecrets;
  readonly payoutQueue: PayoutQueue;
  /** Prefix of the hosted sign-in's domain, `<prefix>.auth.<region>.amazoncognito.com` (unique in the region). */
  readonly domainPrefix: string;
  readonly logRetention: StageConfig['logRetentionDays'];
  readonly logLevel: StageConfig['logLevel'];
  readonly metafile: boolean;
  readonly qboApiBase?: string;
}

/** The Cognito groups the console knows: `support` acts, `viewer` looks. */
export const CONSOLE_GROUPS = ['support', 'viewer'] as const;

/**
 * The support console in AWS (issue 17): one function behind the existing API, signing people in through a
 * Cognito user pool's hosted UI.
 *
 * - User pool: no self sign-up (an administrator invites each person), email sign-in, a strong password policy,
 *   TOTP MFA required, the Plus feature plan with threat protection enforced (a handful of support users cost
 *   cents a month), retained when the stack is deleted. Groups `support` and `viewer`.
 * - App client: public (no secret to keep), authorization code grant with PKCE only, callback
 *   `<console>/auth/callback`, sign-out back to `<console>/`; ID tokens valid 8 hours (a working day).
 * - Function `lambdas/console.ts`: verifies the session cookie on every request (aws-jwt-verify) and reads or
 *   changes exactly what the console needs: the ledger (read; PutItem/UpdateItem to record requests and replays),
 *   the tenants (read; the QuickBooks refresh-lock items only for writing), the customer map (read, for previews),
 *   the Stripe and QuickBooks app secrets (read), the token secrets (read and rotate), the queue (send), the DLQ
 *   (receive, send, delete: the replay walk). No idempotency table, no table scans outside the ledger and tenants.
 */
export class SupportConsole extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;
  readonly fn: NodeFunction;
  /** The console's address: `https://<api>.execute-api.<region>.<suffix>/<stage>`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: SupportConsoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Built from the API's id, not its stage resource: the stage depends on the methods, which depend on this
    // function, whose environment names the URL.
    this.url = `https://${props.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${props.stageName}`;

    this.userPool = new UserPool(this, 'Users', {
      userPoolName: `${stack.stackName}-support-console`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const [name, description] of [
      ['support', 'Support: may sync, resync, preview and replay payouts from the console'],
      ['viewer', "Read-only: sees every payout (a studio's bookkeeper)"],
    ] as const) {
      new UserPoolGroup(this, `Group-${name}`, { userPool: this.userPool, groupName: name, description });
    }
    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: props.domainPrefix } });
    this.client = this.userPool.addClient('Client', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [`${this.url}/auth/callback`],
        logoutUrls: [`${this.url}/`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(8),
      accessTokenValidity: Duration.hours(8),
      refreshTokenValidity: Duration.days(1),
    });

    const { tables, secrets, payoutQueue } = props;
    this.fn = new NodeFunction(this, 'Function', {
      entry: 'lambdas/console.ts',
      description:
        'Support console: payouts, held, DLQ, mappings; sync, resync, preview, replay (Cognito sign-in)',
      timeout: Duration.seconds(29),
      memorySize: 512,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      metafile: props.metafile,
      serviceName: 'qbo-sync-console',
    })
      .bindTable('CUSTOMERS_TABLE', tables.customers, 'read')
      .bindSecret('STRIPE_SECRET_ARN', secrets.stripe)
      .bindSecret('QBO_APP_SECRET_ARN', secrets.qboApp)
      .bindSecretPrefix('QBO_TOKEN_SECRET_PREFIX', secrets.tokens, 'readWrite')
      .bindQueue('QUEUE_URL', payoutQueue.queue)
      .bindQueue('DLQ_URL', payoutQueue.deadLetterQueue)
      .setSetting('MAX_RECEIVE_COUNT', String(payoutQueue.maxReceiveCount));
    if (props.qboApiBase !== undefined) this.fn.setSetting('QBO_API_BASE', props.qboApiBase);
    const fn = this.fn.function;
    const role = this.fn.role;

    // Tenants: read; writes only to the QuickBooks token refresh lock items (`LOCK#qbo-refresh#<realm>`).
    fn.addEnvironment('TENANTS_TABLE', tables.tenants.tableName);
    tables.tenants.grantReadData(role);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [tables.tenants.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['LOCK#qbo-refresh#*'] } },
      }),
    );
    // Ledger: read (list scans it, or queries the byTenant index), create a row for a sync by id, record
    // requests and replays; never delete.
    fn.addEnvironment('LEDGER_TABLE', tables.ledger.tableName);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        resources: [tables.ledger.tableArn, `${tables.ledger.tableArn}/index/byTenant`],
      }),
    );
    // The runtime reads every resource name at start; the console never touches the idempotency table (no grant).
    fn.addEnvironment('IDEMPOTENCY_TABLE', tables.idempotency.tableName);
    // The DLQ walk receives, rotates (sends back) and deletes messages.
    payoutQueue.deadLetterQueue.grantConsumeMessages(role);

    fn.addEnvironment('CONSOLE_USER_POOL_ID', this.userPool.userPoolId);
    fn.addEnvironment('CONSOLE_CLIENT_ID', this.client.userPoolClientId);
    fn.addEnvironment('CONSOLE_AUTH_DOMAIN', this.domain.baseUrl());
    fn.addEnvironment('CONSOLE_URL', this.url);

    const integration = new LambdaIntegration(fn, { allowTestInvoke: false });
    const methods = [
      props.api.root.addMethod('ANY', integration),
      props.api.root.addResource('{proxy+}').addMethod('ANY', integration),
    ];
    for (const method of methods) {
      Validations.of(method).acknowledge(
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'The console function authorises every request itself: it verifies the Cognito ID token in the ' +
            'HttpOnly session cookie with aws-jwt-verify (signature, issuer, audience, expiry) and checks the ' +
            'group (401 without a session, 403 for a viewer on actions). Browsers navigating pages send cookies, ' +
            'not the Authorization header an API Gateway authorizer reads.',
        },
        {
          id: 'AwsSolutions-COG4',
          reason:
            'A Cognito user pool does authenticate these routes, through the hosted sign-in and a session cookie ' +
            'verified by the function (see AwsSolutions-APIG4), not through an API Gateway authorizer.',
        },
      );
    }
  }
}
