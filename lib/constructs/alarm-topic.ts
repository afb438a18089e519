import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Subscribe this address by email (AWS sends a confirmation mail first). */
  readonly email?: string;
}

/**
 * The SNS topic every alarm of the stack notifies; subscribe to it by email (context `alarmEmail`) or otherwise.
 * TLS-only. Not KMS-encrypted, on purpose: notifications carry only an alarm name, a queue name and a count (no
 * payout or customer data), CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a
 * customer-managed key would cost more than it protects.
 */
export class AlarmTopic extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', {
      displayName: 'qbo-sync alarms',
      enforceSSL: true,
    });
    if (props.email !== undefined) this.topic.addSubscription(new EmailSubscription(props.email));
  }
}
