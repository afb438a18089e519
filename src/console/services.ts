/**
 * What the support console acts on: the composition root's adapters (the same ones the Lambdas and the CLI use)
 * and the DLQ port of `dlq list` / `dlq replay`. Built once per process (local mode, or a Lambda container).
 */
import { dlqTransitSeconds, sqsDeadLetterQueue } from '../adapters/aws/queue.js';
import type { DeadLetterQueue } from '../app/dead-letters.js';
import type {
  ActionRecorder,
  CustomerMap,
  Ledger,
  PayoutQueue,
  PayoutSource,
  QuickBooksBooks,
  TenantStore,
} from '../app/ports.js';
import type { Runtime } from '../runtime.js';

export interface ConsoleServices {
  tenants: TenantStore;
  ledger: Ledger & ActionRecorder;
  queue: PayoutQueue;
  payouts: PayoutSource;
  customers: CustomerMap;
  quickbooks: (realmId: string, ctx: { tenantId: string }) => QuickBooksBooks;
  dlq: DeadLetterQueue;
  /** How long a FAILED payout's message may still be on its way to the DLQ (what `dlq replay` says meanwhile). */
  inTransitSeconds(): Promise<number>;
  /**
   * The QuickBooks web app's origin for links to posted entries (`https://app.qbo.intuit.com`, or the sandbox's);
   * undefined when QuickBooks is a stand-in, which has no web app.
   */
  quickBooksAppOrigin: string | undefined;
}

/**
 * The QuickBooks web app that shows the entries of an API origin. Production and sandbox companies open at
 * `app.qbo.intuit.com` / `app.sandbox.qbo.intuit.com` (`/app/deposit?txnId=…`, `/app/journal?txnId=…`; as the
 * LedgerSync QuickBooks Online adaptor's `url_for` builds them). Any other origin is a stand-in.
 */
export function quickBooksAppOrigin(apiBase: string | undefined): string | undefined {
  if (
    apiBase === undefined ||
    apiBase === '' ||
    /^https:\/\/quickbooks\.api\.intuit\.com\/?$/.test(apiBase)
  ) {
    return 'https://app.qbo.intuit.com';
  }
  if (/^https:\/\/sandbox-quickbooks\.api\.intuit\.com\/?$/.test(apiBase)) {
    return 'https://app.sandbox.qbo.intuit.com';
  }
  return undefined;
}

export function consoleServicesFrom(
  runtime: Runtime,
  opts: { dlqWaitSeconds: number; local: boolean },
): ConsoleServices {
  return {
    tenants: runtime.tenants,
    ledger: runtime.ledger,
    queue: runtime.queue,
    payouts: runtime.payouts,
    customers: runtime.customers,
    quickbooks: (realmId, ctx) => runtime.quickbooks.forRealm(realmId, ctx),
    dlq: sqsDeadLetterQueue({
      sqs: runtime.clients.sqs,
      dlqUrl: runtime.resources.dlqUrl,
      queueUrl: runtime.resources.queueUrl,
      waitSeconds: opts.dlqWaitSeconds,
      visibilitySeconds: 30,
    }),
    inTransitSeconds: () =>
      dlqTransitSeconds({
        sqs: runtime.clients.sqs,
        queueUrl: runtime.resources.queueUrl,
        local: opts.local,
      }),
    quickBooksAppOrigin: quickBooksAppOrigin(runtime.env.QBO_API_BASE),
  };
}
