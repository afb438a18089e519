/**
 * `qbo-sync config suggest` on a company where some categories match an income account by name and some do not:
 * the draft maps the clear ones, keeps the tenant's own mappings, marks the rest TODO with candidates, and
 * `config validate` then lists what is left. Spawned CLI processes against a local mode on the test's stand-ins.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import { generatePayout, type StripeStandIn, startStripeStandIn } from '../../standins/stripe/index.js';
import { type LocalMode, startLocalMode } from './cli-helpers.js';

const REALM = '9341453187';
const TENANT = 'suggest-studio';
const ACCOUNT = 'acct_1SuggestStudio';
const DAY = 86_400;
const now = Math.floor(Date.now() / 1000);
const categories = [
  { category: 'Class Packs' },
  { category: 'Workshops' },
  { category: 'Classes', subcategory: 'Virtual' },
  { category: 'Retail' },
];
// Two recent payouts (read), one too old for --days 30 (not read).
const recent = [1, 2].map((n) =>
  generatePayout({
    seed: 60 + n,
    transactions: 24,
    account: ACCOUNT,
    categories,
    arrivalDate: now - n * DAY,
  }),
);
const old = generatePayout({
  seed: 63,
  transactions: 6,
  account: ACCOUNT,
  categories,
  arrivalDate: now - 60 * DAY,
});

let qbo: QuickBooksStandIn;
let stripe: StripeStandIn;
let local: LocalMode;

beforeAll(async () => {
  qbo = await startQuickBooksStandIn({ companies: [demoCompanySeed(REALM)], limits: false });
  stripe = await startStripeStandIn({ secretKey: 'sk_test_suggest' });
  for (const p of [...recent, old]) stripe.addPayout({ account: ACCOUNT, ...p });
  // The tenant maps Class Packs to an account of its choice already.
  local = await startLocalMode({
    qbo,
    stripe,
    configYaml: `tenants:
  - id: ${TENANT}
    stripeAccount: ${ACCOUNT}
    quickbooks:
      realmId: "${REALM}"
      depositAccount: Checking
      processingFeesAccount: Stripe Fees
      adjustmentsAccount: Stripe Adjustments
      refreshToken: ${qbo.issueRefreshToken(REALM)}
    revenue:
      - category: Class Packs
        account: Sales
`,
  });
}, 60_000);

afterAll(async () => {
  await local?.stop();
  await qbo?.close();
  await stripe?.close();
});

/** What the charges of the payouts hold, per category label: count and total (the expected figures). */
function expectedFigures() {
  const figures = new Map<string, { charges: number; total: number }>();
  for (const p of recent) {
    for (const bt of p.transactions) {
      const source = bt.source as { object?: string; metadata?: Record<string, string> } | null;
      if (bt.type !== 'charge' || source?.object !== 'charge') continue;
      const m = source.metadata ?? {};
      const label = m.revenue_subcategory
        ? `${m.revenue_category} / ${m.revenue_subcategory}`
        : `${m.revenue_category}`;
      const f = figures.get(label) ?? { charges: 0, total: 0 };
      f.charges += 1;
      f.total += bt.amount;
      figures.set(label, f);
    }
  }
  return figures;
}

describe('config suggest', () => {
  test('writes a draft: clear names mapped, own mappings kept, the rest TODO with candidates', async () => {
    // Act
    const r = await local.cli(['config', 'suggest', '--tenant', TENANT, '-o', 'draft.yaml']);

    // Assess: the summary
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Read 2 payouts of tenant ${TENANT} from the last 30 days`);
    expect(r.stdout).toMatch(
      /^Workshops +\d+ +[\d,.]+ USD +Workshop Revenue \(suggested: the names match\)$/m,
    );
    expect(r.stdout).toMatch(/^Class Packs +\d+ +[\d,.]+ USD +Sales \(already mapped\)$/m);
    expect(r.stdout).toMatch(/^Retail +\d+ +[\d,.]+ USD +TODO: candidates "/m);
    expect(r.stdout).toContain('Income accounts: Class Pack Revenue, Class Pack Revenue:Intro Offers,');
    expect(r.stdout).toContain('Classes:         Online, Studio, Studio:Downtown');
    expect(r.stdout).toContain('1 category is left TODO');
    expect(r.stdout).toMatch(/Test deposit: npx qbo-sync payouts preview po_\w+ --tenant suggest-studio/);

    // Assess: the draft
    const text = readFileSync(path.join(local.cwd, 'draft.yaml'), 'utf8');
    const draft = parseYaml(text) as {
      tenants: Array<{ quickbooks: Record<string, unknown>; revenue: unknown[] }>;
    };
    expect(draft.tenants[0]?.quickbooks).not.toHaveProperty('refreshToken');
    expect(draft.tenants[0]?.revenue).toEqual(
      expect.arrayContaining([
        { category: 'Class Packs', account: 'Sales' },
        { category: 'Workshops', account: 'Workshop Revenue' },
        { category: 'Classes', subcategory: 'Virtual', account: 'Virtual Class Revenue' },
        { category: 'Retail', account: 'TODO' },
      ]),
    );
    expect(draft.tenants[0]?.revenue).toHaveLength(4);
    expect(text).toMatch(/# TODO: no account is clearly right for "Retail"; candidates: "[^"]+"/);
  });

  test('--json: every category with its count and total, as the charges hold them', async () => {
    // Act
    const r = await local.cli(['config', 'suggest', '--tenant', TENANT, '--json']);

    // Assess
    expect(r.code).toBe(0);
    const json = r.json<{
      payouts: number;
      todo: number;
      categories: Array<{
        found: { category: string; subcategory?: string; charges: number; total: number };
      }>;
    }>();
    expect(json).toMatchObject({ payouts: 2, todo: 1 });
    const got = new Map(
      json.categories.map((c) => [
        c.found.subcategory ? `${c.found.category} / ${c.found.subcategory}` : c.found.category,
        { charges: c.found.charges, total: c.found.total },
      ]),
    );
    expect(got).toEqual(expectedFigures());
  });

  test('config validate then lists what is left', async () => {
    // Arrange
    await local.cli(['config', 'suggest', '--tenant', TENANT, '-o', 'left.yaml']);

    // Act
    const r = await local.cli(['config', 'validate', 'left.yaml']);

    // Assess
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/left\.yaml is not valid: 1 problem/);
    expect(r.stdout).toMatch(
      /tenant suggest-studio, revenue\[\d\]\.account: account is still TODO: choose one of the candidates/,
    );
  });
});
