import { ArnFormat, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * The secrets. Two are created here with *empty placeholder* values that an operator replaces with
 * `aws secretsmanager put-secret-value` (docs/deploying.md); the per-realm QuickBooks token secrets are
 * created at run time by the OAuth callback under {@link SyncSecrets.tokens}'s prefix and are not part of the
 * stack. All are encrypted with the account's `aws/secretsmanager` key and retained on stack deletion.
 *
 * Never change the placeholder values below: CloudFormation would write them over the real values on the
 * next deploy.
 */
export class SyncSecrets extends Construct {
  /**
   * `{"secretKey":"sk_…"}`: the Stripe API key (the worker and the catch-up). Its `webhookSecret` field is no longer
   * read (the webhook has its own secret below); it stays in the placeholder because changing a placeholder would
   * make CloudFormation overwrite the real value.
   */
  readonly stripe: Secret;
  /**
   * `{"webhookSecret":"platform:whsec_…,connect:whsec_…"}`: the webhook endpoints' signing secrets, each marked with
   * the endpoint it belongs to. The only secret the public webhook function can read.
   */
  readonly stripeWebhook: Secret;
  /** `{"clientId":"…","clientSecret":"…","redirectUri":"<CallbackUrl output>"}` */
  readonly qboApp: Secret;
  /** Per-realm token secrets are named `<prefix><realmId>`; `arnPattern` matches every one of them. */
  readonly tokens: { readonly prefix: string; readonly arnPattern: string };

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);

    this.stripe = new Secret(this, 'Stripe', {
      description:
        'Stripe API key and webhook signing secret: {"secretKey":"sk_...","webhookSecret":"whsec_..."}',
      secretObjectValue: {
        secretKey: SecretValue.unsafePlainText(''),
        webhookSecret: SecretValue.unsafePlainText(''),
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stripeWebhook = new Secret(this, 'StripeWebhook', {
      description:
        'Stripe webhook signing secrets, each marked with its endpoint: {"webhookSecret":"platform:whsec_...,connect:whsec_..."}',
      secretObjectValue: { webhookSecret: SecretValue.unsafePlainText('') },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.qboApp = new Secret(this, 'QboApp', {
      description:
        'QuickBooks (Intuit) app credentials: {"clientId":"...","clientSecret":"...","redirectUri":"<CallbackUrl>"}',
      secretObjectValue: {
        clientId: SecretValue.unsafePlainText(''),
        clientSecret: SecretValue.unsafePlainText(''),
        redirectUri: SecretValue.unsafePlainText(''),
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const prefix = `${stack.stackName}/qbo-tokens/`;
    this.tokens = {
      prefix,
      arnPattern: stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${prefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    };

    for (const secret of [this.stripe, this.stripeWebhook, this.qboApp]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'It holds credentials issued by Stripe or Intuit, which Secrets Manager cannot rotate: they are ' +
          'rolled in the Stripe dashboard / Intuit developer portal and stored with put-secret-value.',
      });
    }
  }
}
