/** What local mode prints: the banner once it is ready, and the commands to try once the demo is done. */
import path from 'node:path';
import { RETRY_SCALE_ENV, STRIPE_OUTAGE_ENV } from './constants.js';
import { retryDelaySeconds } from './poller.js';
import { type LocalTarget, resolveDataDir } from './target.js';

export function banner(
  target: LocalTarget,
  cwd: string,
  tenantLines: string[],
  sampleLines: string[],
  retryScale: number,
  outage: readonly string[] = [],
): string {
  const rel = path.relative(cwd, target.dataDir) || '.';
  const e = target.embedded;
  const rows: Array<[string, string]> = [
    ['Support console', `${target.url}/ (open it in your browser; loopback only, no sign-in)`],
    ['Webhook endpoint', `${target.url}/webhooks/stripe`],
    ['Health', `${target.url}/healthz`],
    ['Webhook secret', target.webhookSecret ?? '(given in STRIPE_WEBHOOK_SECRET: not shown)'],
    [
      'QuickBooks',
      e.quickbooks
        ? `stand-in at ${target.endpoints.quickbooks} (demo company Demo Yoga Studio)`
        : target.endpoints.quickbooks,
    ],
    ['Stripe', e.stripe ? `stand-in at ${target.endpoints.stripe} (demo payouts)` : target.endpoints.stripe],
    [
      'DynamoDB, SQS, Secrets Manager',
      e.aws
        ? `embedded; state kept in ${rel}${path.sep}`
        : `${target.endpoints.dynamodb}, ${target.endpoints.sqs}`,
    ],
    ['Tenants', tenantLines.join('; ') || '(none)'],
    ...(sampleLines.length > 0 ? [['More sample payouts', sampleLines.join(', ')] as [string, string]] : []),
    ...(retryScale !== 1
      ? [
          [
            'Retry waits',
            `${[1, 2, 3, 4].map((n) => retryDelaySeconds(n, () => 0.5, retryScale)).join(', ')} s between receives of a failing payout (${RETRY_SCALE_ENV}=${retryScale})`,
          ] as [string, string],
        ]
      : []),
    ...(outage.length > 0
      ? [
          [
            'Stripe outage',
            `${outage.join(', ')}: every read answers 503 (${STRIPE_OUTAGE_ENV}; restart without it to end the outage)`,
          ] as [string, string],
        ]
      : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `\nqbo-sync local mode (pid ${target.pid})\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

/** The lines printed once the demo is done and local mode keeps serving. */
export function servingHelp(target: LocalTarget, samplePayoutIds: readonly string[] = []): string {
  const port = target.port;
  const tenant = target.tenants[0] ?? '<tenant>';
  // The CLI finds local mode through its data folder: name it when it is not the default one of this folder.
  const local =
    target.dataDir === resolveDataDir(process.cwd())
      ? '--local'
      : `--local --data-dir ${JSON.stringify(target.dataDir)}`;
  const rows: Array<[string, string]> = [];
  if (samplePayoutIds[0]) {
    rows.push([
      'Post another payout',
      `npx qbo-sync payouts sync ${samplePayoutIds[0]} --tenant ${tenant} ${local}`,
    ]);
  }
  rows.push(['See the ledger', `npx qbo-sync payouts list ${local}`]);
  rows.push(['Or in the browser', `${target.url}/ (the support console)`]);
  rows.push(['Forward Stripe events', `stripe listen --forward-to localhost:${port}/webhooks/stripe`]);
  rows.push([
    '',
    target.embedded.stripe
      ? '(for Stripe test mode, start with STRIPE_API_BASE=https://api.stripe.com STRIPE_SECRET_KEY=sk_test_… STRIPE_WEBHOOK_SECRET=<the whsec_… stripe listen prints>)'
      : '(STRIPE_WEBHOOK_SECRET must be the whsec_… that stripe listen prints)',
  ]);
  // Credentials from the environment are never written to disk: another terminal must export them too.
  const exported = [
    ...(target.credentials.stripeSecretKey === null ? ['STRIPE_SECRET_KEY'] : []),
    ...(target.credentials.qboClientId === null ? ['QBO_CLIENT_ID'] : []),
    ...(target.credentials.qboClientSecret === null ? ['QBO_CLIENT_SECRET'] : []),
  ];
  if (exported.length > 0)
    rows.push([
      'Credentials',
      `export ${exported.join(', ')} in that terminal too (they are never written to disk)`,
    ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    '',
    `Serving on ${target.url}. Stop with Ctrl-C. From another terminal in this folder:`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
  ].join('\n');
}
