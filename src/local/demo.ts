/**
 * The demo of `npm start`: a tenant on the QuickBooks stand-in's demo company, and the stand-in Stripe's demo payout
 * sent as a signed `payout.paid` webhook through local mode's own HTTP endpoint. The posted deposit is then read
 * back from QuickBooks and printed.
 */
import { type GeneratedPayout, generateFailedPayout, generatePayout } from '../../standins/stripe/index.js';
import type { LedgerRecord, QuickBooksBooks } from '../app/ports.js';
import { type TenantConfig, TenantConfigSchema } from '../domain/config.js';
import { formatMinor } from '../domain/money.js';
import type { Payout } from '../domain/stripe.js';
import type { LedgerStatus } from '../domain/types.js';
import { entryRows, type NameLookup, referencedIds, renderDepositTable } from './deposit-table.js';

export const DEMO_TENANT_ID = 'demo-studio';
export const DEMO_REALM_ID = '9341453187';

/** The demo tenant, as it would be written in a sync config file (CONTRACT §2). */
export function demoTenantConfig(realmId: string = DEMO_REALM_ID): TenantConfig {
  return TenantConfigSchema.parse({
    id: DEMO_TENANT_ID,
    stripeAccount: 'platform',
    quickbooks: {
      realmId,
      depositAccount: 'Checking',
      processingFeesAccount: 'Stripe Fees',
      platformFeesAccount: 'Platform Fees',
      disputesAccount: 'Chargebacks',
      adjustmentsAccount: 'Stripe Adjustments',
      uncategorizedAccount: 'Sales',
      walkInCustomer: 'Walk-in',
      lineDetail: 'customer',
    },
    revenue: [
      { category: 'Class Packs', account: 'Class Pack Revenue' },
      { category: 'Classes', subcategory: 'Virtual', account: 'Virtual Class Revenue', class: 'Online' },
      { category: 'Classes', subcategory: 'In person', account: 'In-person Class Revenue', class: 'Studio' },
      { category: 'Classes', account: 'In-person Class Revenue' },
      { category: 'Memberships', account: 'Membership Revenue' },
      { category: 'Workshops', account: 'Workshop Revenue' },
    ],
  });
}

/** The sample payout that failed, and the one its funds came back in (with every rarer reporting category). */
export const SAMPLE_FAILED_PAYOUT_ID = 'po_1SampleFailedPayout001';
export const SAMPLE_RETURNING_PAYOUT_ID = `${SAMPLE_FAILED_PAYOUT_ID}R`;

/**
 * More payouts the embedded Stripe stand-in holds besides the demo payout, for trying things by hand
 * (`npx qbo-sync payouts sync <po> --local`, or a signed webhook). Deterministic: the same every start. Besides
 * three ordinary ones: a payout that failed (`SAMPLE_FAILED_PAYOUT_ID`) and the later one its funds come back in
 * (`SAMPLE_RETURNING_PAYOUT_ID`), which also holds refund failures, partial-capture reversals, charge failures and fee
 * refunds, with half of the nullable fields `null` (payout and refund metadata among them).
 */
export function samplePayouts(): GeneratedPayout[] {
  const jane = { email: 'jane@example.com', name: 'Jane Doe' };
  const ordinary = [1, 2, 3].map((n) =>
    generatePayout({
      seed: 4200 + n,
      id: `po_1SampleLocalPayout00${n}`,
      transactions: 8 + 4 * n,
      members: { existing: [jane], newCount: 2 + n },
    }),
  );
  const { failed, returning } = generateFailedPayout({
    seed: 4300,
    id: SAMPLE_FAILED_PAYOUT_ID,
    transactions: 24,
    members: { existing: [jane], newCount: 4 },
    mix: { refunds: 0.1, refundFailures: 0.1, partialCaptures: 0.1, chargeFailures: 0.1, feeRefunds: 0.1 },
    nulls: 0.5,
  });
  return [...ordinary, failed, returning];
}

/** Statuses after which the worker is done with a payout (for now). */
export const SETTLED: ReadonlySet<LedgerStatus> = new Set([
  'POSTED',
  'HELD',
  'FAILED',
  'SKIPPED',
  'REVERSED',
  'WAITING_FOR_RECONCILIATION',
]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls the ledger until the payout's row is settled (or the time is up: the last row seen, if any). */
export async function waitForSettled(
  get: (payoutId: string) => Promise<LedgerRecord | undefined>,
  payoutId: string,
  timeoutMs: number,
  isStopped: () => boolean = () => false,
): Promise<LedgerRecord | undefined> {
  const deadline = Date.now() + timeoutMs;
  let row: LedgerRecord | undefined;
  for (;;) {
    row = await get(payoutId);
    if (row && SETTLED.has(row.status)) return row;
    if (Date.now() >= deadline || isStopped()) return row;
    await sleep(150);
  }
}

/** The posted entry as a table, with the facts a person checks: total = payout, status, QuickBooks id. */
export async function describePosted(
  books: QuickBooksBooks,
  row: LedgerRecord,
  payout: Pick<Payout, 'id' | 'amount' | 'currency' | 'arrival_date'> | undefined,
  depositAccountId?: string,
): Promise<string> {
  if (!row.quickbooks)
    return `Payout ${row.payoutId}: ${row.status}, but the ledger names no QuickBooks entry.\n`;
  const entry = await books.getEntry(row.quickbooks);
  if (!entry) {
    return `Payout ${row.payoutId}: the ledger says ${row.status} as ${row.quickbooks.type} ${row.quickbooks.id}, which no longer exists in QuickBooks.\n`;
  }
  const body = entry.body;
  const currencyRef = body.CurrencyRef as { value?: unknown } | undefined;
  const currency = (
    typeof currencyRef?.value === 'string' ? currencyRef.value : (payout?.currency ?? 'USD')
  ).toUpperCase();
  const names = await lookupNames(books, body);
  const rows = entryRows(row.quickbooks.type, body, currency, names, depositAccountId);
  const total = rows.reduce((sum, r) => sum + r.amount, 0);
  const facts: Array<[string, string]> = [];
  if (payout) {
    const matches = total === payout.amount;
    facts.push([
      'Total',
      `${formatMinor(total, currency)} ${matches ? '= the payout amount' : `≠ the payout amount ${formatMinor(payout.amount, currency)}`}`,
    ]);
  } else {
    facts.push(['Total', formatMinor(total, currency)]);
  }
  facts.push(['Ledger status', row.status]);
  facts.push([`QuickBooks ${row.quickbooks.type}`, `id ${row.quickbooks.id}`]);
  if (typeof body.TxnDate === 'string') facts.push(['Date', body.TxnDate]);
  if (row.folded)
    facts.push(['Note', `more lines than maxDepositLines: posted with ${row.lineDetailUsed} lines`]);
  const title = `${row.quickbooks.type} posted to QuickBooks for Stripe payout ${row.payoutId} (tenant ${row.tenantId})`;
  return renderDepositTable(rows, currency, { title, facts });
}

async function lookupNames(books: QuickBooksBooks, body: Record<string, unknown>): Promise<NameLookup> {
  const ids = referencedIds(body);
  const chart = await books.getChart();
  const accounts = new Map(chart.accounts.map((a) => [a.id, a.fullyQualifiedName || a.name]));
  const classes = new Map(chart.classes.map((c) => [c.id, c.fullyQualifiedName || c.name]));
  const customers = new Map((chart.customers ?? []).map((c) => [c.id, c.displayName]));
  if ([...ids.customers].some((id) => !customers.has(id))) {
    for (const c of await books.listCustomers()) customers.set(c.id, c.displayName);
  }
  return { accounts, classes, customers };
}

/** What to tell a person when the payout did not post. */
export function describeNotPosted(
  row: LedgerRecord | undefined,
  payoutId: string,
  timeoutMs: number,
): string {
  if (!row) return `Payout ${payoutId} never reached the ledger within ${Math.round(timeoutMs / 1000)} s.\n`;
  const lines = [`Payout ${payoutId} (tenant ${row.tenantId}): ${row.status}`];
  if (row.reason) lines.push(`  reason: ${row.reason}`);
  if (row.hint) lines.push(`  fix:    ${row.hint}`);
  if (row.status === 'FAILED') lines.push('  see:    npx qbo-sync dlq list --local');
  if (!SETTLED.has(row.status)) lines.push(`  (still ${row.status} after ${Math.round(timeoutMs / 1000)} s)`);
  return `${lines.join('\n')}\n`;
}
