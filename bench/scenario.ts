/**
 * One benchmark workload: a generated payout (deterministic seed) whose charges each have their own member, half of
 * them new to QuickBooks; the other half already are QuickBooks customers, and half of those are already in the
 * mapping table. So, with E distinct emails:
 *
 *   existing = ⌊E/2⌋ (in the QuickBooks company), new C = E − existing (to create),
 *   mapped = ⌊existing/2⌋ (in the mapping table), M = E − mapped (missing from the map, looked up in QuickBooks).
 *
 * New members come from the generator (`first.last.<seed>.<n>@example.org`, names from a pool of 400, so many new
 * customers share a name, as real members do); existing customers have unique names, as QuickBooks requires.
 */

import { collectMembers, normaliseEmail } from '../src/domain/members.js';
import { BalanceTransactionSchema } from '../src/domain/stripe.js';
import { demoCompanySeed } from '../standins/quickbooks/index.js';
import type { CompanySeed } from '../standins/quickbooks/types.js';
import { type GeneratedMember, type GeneratedPayout, generatePayout } from '../standins/stripe/generate.js';

export interface ScenarioSpec {
  /** Balance transactions of the payout, its own included. */
  transactions: number;
  seed: number;
  /** Makes the ids (payout, account, realm) unique within one run of the stand-ins. */
  sequence: number;
}

export interface Scenario {
  payoutId: string;
  stripeAccount: string;
  realmId: string;
  generated: GeneratedPayout;
  company: CompanySeed;
  /** Emails of the existing customers that go into the mapping table before the run. */
  mappedEmails: string[];
  counts: {
    transactions: number;
    charges: number;
    distinctEmails: number;
    existingCustomers: number;
    mappedCustomers: number;
    missingFromMap: number;
    newCustomers: number;
  };
}

/** Charges the generator makes for `transactions` with its default mix (a dry run with one member). */
function chargeCount(transactions: number, seed: number): number {
  const dry = generatePayout({ seed, transactions, members: { existing: [], newCount: 1 } });
  return dry.transactions.filter((t) => t.type === 'charge').length;
}

export function existingMember(k: number): GeneratedMember {
  const n = String(k + 1).padStart(5, '0');
  return { email: `regular.${n}@example.net`, name: `Regular Member ${n}` };
}

export function buildScenario(spec: ScenarioSpec): Scenario {
  const { transactions, seed, sequence } = spec;
  const tag = `${transactions}x${sequence}`;
  const stripeAccount = `acct_Bench${tag.replace(/[^A-Za-z0-9]/g, '')}`;
  const payoutId = `po_Bench${tag.replace(/[^A-Za-z0-9]/g, '')}`;
  const realmId = String(9_300_000_000 + sequence);

  const charges = chargeCount(transactions, seed);
  const existingCount = Math.floor(charges / 2);
  const existing = Array.from({ length: existingCount }, (_, k) => existingMember(k));
  const generated = generatePayout({
    seed,
    id: payoutId,
    account: stripeAccount,
    transactions,
    members: { existing, newCount: charges - existingCount },
  });

  // What the builder will see: the members of the parsed transactions.
  const parsed = generated.transactions.map((t) => BalanceTransactionSchema.parse(t));
  const emails = new Set(collectMembers(parsed).map((m) => normaliseEmail(m.email) ?? ''));
  emails.delete('');
  const existingEmails = existing.map((m) => m.email);
  const mappedEmails = existingEmails.slice(0, Math.floor(existingCount / 2));
  const mapped = new Set(mappedEmails);
  const inCompany = new Set(existingEmails);
  let missingFromMap = 0;
  let newCustomers = 0;
  for (const email of emails) {
    if (mapped.has(email)) continue;
    missingFromMap++;
    if (!inCompany.has(email)) newCustomers++;
  }

  const demo = demoCompanySeed(realmId);
  const company: CompanySeed = {
    ...demo,
    companyName: `Benchmark Studio ${tag}`,
    customers: [
      ...(demo.customers ?? []),
      ...existing.map((m, k) => ({
        DisplayName: m.name ?? m.email,
        Email: m.email,
        CreateTime: new Date(Date.UTC(2024, 0, 1) + k * 60_000).toISOString(),
      })),
    ],
  };

  return {
    payoutId,
    stripeAccount,
    realmId,
    generated,
    company,
    mappedEmails,
    counts: {
      transactions: generated.transactions.length,
      charges,
      distinctEmails: emails.size,
      existingCustomers: existingCount,
      mappedCustomers: mappedEmails.length,
      missingFromMap,
      newCustomers,
    },
  };
}
