/**
 * `npm start`'s demo run: sends the demo payout as a signed `payout.paid` webhook to local mode's own endpoint
 * (unless an earlier run processed it), waits for the ledger, and prints the deposit read back from QuickBooks.
 */
import { type GeneratedPayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';
import { describeError } from '../app/log.js';
import type { Ledger, QuickBooksBooks, TenantStore } from '../app/ports.js';
import { formatMinor } from '../domain/money.js';
import { describeNotPosted, describePosted, waitForSettled } from './demo.js';
import type { DemoOutcome } from './types.js';

/** How long the demo waits for the worker: enough for a payout that keeps failing to reach the DLQ. */
const DEMO_TIMEOUT_MS = 200_000;

export interface DemoRunDeps {
  demo: GeneratedPayout;
  url: string;
  webhookSecret: string;
  ledger: Pick<Ledger, 'get'>;
  tenants: Pick<TenantStore, 'get'>;
  books: (realmId: string, tenantId: string) => QuickBooksBooks;
  out: (text: string) => void;
  /** True once local mode is stopping: the wait ends. */
  isStopping: () => boolean;
}

export async function runDemoPayout(deps: DemoRunDeps): Promise<DemoOutcome> {
  const { demo, url, webhookSecret, ledger, tenants, books, out } = deps;
  const payout = demo.payout;
  const earlier = await ledger.get(payout.id);
  let sent = false;
  if (!earlier) {
    const event = makePayoutEvent('payout.paid', payout);
    const payload = JSON.stringify(event);
    out(
      `\nSending the demo payout ${payout.id} (${formatMinor(payout.amount, payout.currency)}, ${demo.transactions.length - 1} balance transactions) as a signed payout.paid webhook to ${url}/webhooks/stripe …\n`,
    );
    const response = await fetch(`${url}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': signWebhook(payload, webhookSecret),
      },
      body: payload,
    });
    const answer = await response.text();
    if (!response.ok) {
      out(`The webhook endpoint answered ${response.status}: ${answer}\n`);
      return { payoutId: payout.id, row: await ledger.get(payout.id), sent: true };
    }
    sent = true;
    const eventId = /"eventId":"([^"]+)"/.exec(answer)?.[1];
    out(
      `The endpoint answered ${response.status}${eventId ? ` (event ${eventId} queued)` : ''}; the worker is building the deposit …\n`,
    );
  } else {
    out(
      `\nThe demo payout ${payout.id} was processed by an earlier run (ledger: ${earlier.status}); it is not sent again. Start with --fresh to run it anew.\n`,
    );
  }
  const row = await waitForSettled((id) => ledger.get(id), payout.id, DEMO_TIMEOUT_MS, deps.isStopping);
  if (row?.status === 'POSTED' || row?.status === 'REVERSED') {
    const tenant = await tenants.get(row.tenantId);
    const text = await describePosted(
      books(tenant?.books.realmId ?? '', row.tenantId),
      row,
      payout,
      tenant?.books.depositAccount.value,
    ).catch(
      (error: unknown) => `Could not read the posted entry back from QuickBooks: ${describeError(error)}\n`,
    );
    out(`\n${text}`);
  } else {
    out(`\n${describeNotPosted(row, payout.id, DEMO_TIMEOUT_MS)}`);
  }
  return { payoutId: payout.id, row, sent };
}
