import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { NodeFunction } from './node-function.js';

export interface SyncApiProps {
  /** Handles `POST /webhooks/stripe` (lambdas/webhook.ts). */
  readonly webhook: NodeFunction;
  /** Handles `GET /quickbooks/callback` (lambdas/qbo-callback.ts). */
  readonly qboCallback: NodeFunction;
  /** Stage throttling: steady requests per second, and burst. */
  readonly rateLimit: number;
  readonly burstLimit: number;
  /** Retention of the access log. */
  readonly logRetention: RetentionDays;
  /** Set the account's API Gateway CloudWatch Logs role (required once per account and region for logging). */
  readonly cloudWatchRole: boolean;
}

/**
 * The public HTTPS entry points, one regional REST API (stage `v1`):
 * - `POST /webhooks/stripe`: Stripe's webhook deliveries. API Gateway accepts bodies up to 10 MB; the function
 *   enforces the contract's 1 MiB (413) itself, before verifying the signature, so no request validator or
 *   authorizer sits in front of it: the Stripe signature over the raw body *is* the authentication.
 * - `GET /quickbooks/callback`: Intuit's OAuth redirect after a person connects a company (`state` checked by
 *   the function), throttled harder.
 *
 * Throttling applies per stage (context `apiRateLimit`/`apiBurstLimit`); JSON access logs (no query strings,
 * so no OAuth codes) and ERROR-level execution logs without request data go to CloudWatch.
 */
export class SyncApi extends Construct {
  readonly api: RestApi;
  readonly webhookUrl: string;
  readonly callbackUrl: string;

  constructor(scope: Construct, id: string, props: SyncApiProps) {
    super(scope, id);

    const accessLog = new LogGroup(this, 'AccessLog', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.api = new RestApi(this, 'Api', {
      // API Gateway's metrics are keyed by this name only: one per stack, so stages' alarms never mix.
      restApiName: Stack.of(this).stackName,
      description: 'Stripe webhooks and the QuickBooks OAuth callback of momence-qbo-sync',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: props.cloudWatchRole,
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: props.rateLimit,
        throttlingBurstLimit: props.burstLimit,
        methodOptions: {
          '/quickbooks/callback/GET': { throttlingRateLimit: 5, throttlingBurstLimit: 10 },
        },
        accessLogDestination: new LogGroupLogDestination(accessLog),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
      },
    });

    const webhookMethod = this.api.root
      .addResource('webhooks')
      .addResource('stripe')
      .addMethod('POST', new LambdaIntegration(props.webhook.function, { allowTestInvoke: false }));
    const callbackMethod = this.api.root
      .addResource('quickbooks')
      .addResource('callback')
      .addMethod('GET', new LambdaIntegration(props.qboCallback.function, { allowTestInvoke: false }));

    // The stack publishes its own outputs (WebhookUrl, CallbackUrl): drop RestApi's generated "Endpoint" one.
    this.api.node.tryRemoveChild('Endpoint');
    this.webhookUrl = this.api.urlForPath('/webhooks/stripe');
    this.callbackUrl = this.api.urlForPath('/quickbooks/callback');

    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          "Validation is the functions' job: the webhook must answer 413 for a body over 1 MiB before it answers " +
          '400 for a bad signature (contract), which a gateway validator would reorder; the callback renders its ' +
          'own error page for an OAuth error redirect that carries no code.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'No WAF: the only callers are Stripe (authenticated by the webhook signature) and one person per OAuth ' +
          'connect; stage throttling bounds abuse, and a web ACL would cost more than the rest of the stack.',
      },
    );
    for (const method of [webhookMethod, callbackMethod]) {
      Validations.of(method).acknowledge(
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'Called by third parties that cannot carry AWS credentials or tokens: Stripe (each request is ' +
            "signed, verified by the function) and Intuit's OAuth redirect (bound to a single-use `state`).",
        },
        {
          id: 'AwsSolutions-COG4',
          reason:
            'No Cognito users exist: see AwsSolutions-APIG4 for how each route authenticates its caller.',
        },
      );
    }
    if (props.cloudWatchRole) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-level API Gateway logging role uses the AWS-documented managed policy ' +
          'AmazonAPIGatewayPushToCloudWatchLogs; API Gateway itself assumes it to write the logs.',
      });
    }
  }
}
