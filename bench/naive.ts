/**
 * The naive baseline: what a straightforward one-call-per-item implementation of the same job does, really executed
 * against the same stand-ins and emulators, its calls counted the same way as the builder's (stand-ins' request
 * logs, counting SDK clients).
 *
 *   tenant read, ledger RECEIVED + POSTING;
 *   the payout, then its balance transactions in Stripe's default pages of 10 (sources expanded);
 *   for every member email: one GetItem on the mapping table; if missing, one QuickBooks query by email; if not
 *   found, one customer create (again with "Name (email)" when the name is taken); one PutItem per new mapping;
 *   the entry built by the same pure domain code and posted; ledger POSTED.
 *
 * The per-email work runs `concurrency` emails at a time (the call count does not depend on it) and stops starting
 * new emails after `budgetMs`; a run cut short says so (`complete: false`) and counts only the calls it made.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { DynamoLedger } from '../src/adapters/aws/ledger.js';
import { DynamoTenantStore } from '../src/adapters/aws/tenant-store.js';
import { SecretsTokenStore } from '../src/adapters/aws/token-store.js';
import { displayNameCandidate, MINOR_VERSION, qboQuoted } from '../src/adapters/quickbooks/client.js';
import { stripeClient } from '../src/adapters/stripe/client.js';
import { TRANSACTION_EXPAND } from '../src/adapters/stripe/payout-source.js';
import { customerDisplayName } from '../src/app/resolve-customers.js';
import { buildEntry } from '../src/domain/deposit.js';
import { collectMembers, normaliseEmail } from '../src/domain/members.js';
import { type BalanceTransaction, BalanceTransactionSchema, PayoutSchema } from '../src/domain/stripe.js';
import type { Member, Ref } from '../src/domain/types.js';
import { callsFrom, cpuMsBetween, outcomeOf, type RunCalls, type RunOutcome } from './builder.js';
import { countedAwsClients, destroyClients, type Measured, measure } from './measure.js';
import { type BenchContext, type PreparedRun, setupLedger } from './setup.js';

export interface NaiveOptions {
  /** Emails worked on at once (default 4). */
  concurrency?: number;
  /** Stop starting new emails after this long (default 10 minutes). */
  budgetMs?: number;
  /** Stripe list page size (default 10, Stripe's default). */
  stripePageSize?: number;
}

export interface NaiveRun extends Omit<Measured<unknown>, 'result'> {
  calls: RunCalls;
  outcome: RunOutcome;
  complete: boolean;
  emailsProcessed: number;
  emailsTotal: number;
  concurrency: number;
  standInsCpuMs: number;
}

const CustomerSchema = z
  .object({
    Id: z.union([z.string(), z.number()]).transform(String),
    DisplayName: z.string(),
    Active: z.boolean().optional(),
  })
  .loose();
const QueryAnswer = z
  .object({ QueryResponse: z.object({ Customer: z.array(CustomerSchema).optional() }).loose() })
  .loose();
const CreateAnswer = z.object({ Customer: CustomerSchema }).loose();
const FaultAnswer = z
  .object({ Fault: z.object({ Error: z.array(z.object({ code: z.string() }).loose()) }).loose() })
  .loose();
const EntryAnswer = z.object({ Deposit: z.object({ Id: z.string() }).loose() }).loose();
const MappingItem = z.object({ customerId: z.string() }).loose();

class QboHttpError extends Error {
  constructor(
    readonly status: number,
    readonly codes: string[],
    what: string,
  ) {
    super(`QuickBooks answered ${status} (${codes.join(', ') || 'no fault code'}) to ${what}`);
  }
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  stop: () => boolean,
  work: (item: T) => Promise<void>,
) {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

export async function runNaive(
  ctx: BenchContext,
  prepared: PreparedRun,
  options: NaiveOptions = {},
): Promise<NaiveRun> {
  const { workload, tenant } = prepared;
  const concurrency = options.concurrency ?? 4;
  const budgetMs = options.budgetMs ?? 600_000;
  const pageSize = options.stripePageSize ?? 10;
  const clients = countedAwsClients(ctx.host.endpoints.aws, ctx.region);
  const { resources } = ctx;
  const tenants = new DynamoTenantStore({ doc: clients.doc, tableName: resources.tenantsTable });
  const ledger = new DynamoLedger({ doc: clients.doc, tableName: resources.ledgerTable });
  const tokens = new SecretsTokenStore({
    secrets: clients.secrets,
    doc: clients.doc,
    tenantsTable: resources.tenantsTable,
    secretPrefix: resources.tokenSecretPrefix,
  });
  const stripe = stripeClient({
    secretKey: ctx.settings.stripeSecretKey,
    apiBase: ctx.services.stripe.url,
  });
  const http: AxiosInstance = axios.create({ validateStatus: () => true, responseType: 'json' });
  const realm = workload.realmId;
  const companyUrl = `${ctx.services.quickbooks.url}/v3/company/${realm}`;
  let processed = 0;
  let emailsTotal = 0;
  let complete = true;

  const work = async (): Promise<void> => {
    const started = Date.now();
    const stored = await tenants.get(tenant.books.tenantId);
    if (!stored) throw new Error(`bench naive: tenant ${tenant.books.tenantId} is not stored`);
    let row = await ledger.ensure(workload.payoutId, stored.books.tenantId, `evt_naive_${randomUUID()}`);
    const requestId = randomUUID();
    row =
      (await ledger.update(workload.payoutId, row.version, {
        status: 'POSTING',
        intent: { requestId, entryType: 'Deposit' },
      })) ?? row;
    const account = { stripeAccount: workload.stripeAccount };
    const payout = PayoutSchema.parse(await stripe.payouts.retrieve(workload.payoutId, {}, account));
    const transactions: BalanceTransaction[] = [];
    for await (const raw of stripe.balanceTransactions.list(
      { payout: payout.id, limit: pageSize, expand: [...TRANSACTION_EXPAND] },
      account,
    )) {
      transactions.push(BalanceTransactionSchema.parse(raw));
    }
    const members = new Map<string, Member>();
    for (const m of collectMembers(transactions)) {
      const email = normaliseEmail(m.email);
      if (email !== undefined && !members.has(email)) members.set(email, { ...m, email });
    }
    emailsTotal = members.size;
    const access = (await tokens.get(realm))?.accessToken;
    if (access === undefined) throw new Error(`bench naive: no QuickBooks tokens for realm ${realm}`);
    const headers = { Authorization: `Bearer ${access}`, Accept: 'application/json' };
    const params = { minorversion: String(MINOR_VERSION) };

    const directory = new Map<string, Ref>();
    await pool(
      [...members.values()],
      concurrency,
      () => {
        if (Date.now() - started <= budgetMs) return false;
        complete = false;
        return true;
      },
      async (member) => {
        const { email } = member;
        const got = await clients.doc.send(
          new GetCommand({ TableName: resources.customersTable, Key: { realmId: realm, email } }),
        );
        if (got.Item) {
          directory.set(email, { value: MappingItem.parse(got.Item).customerId });
          processed++;
          return;
        }
        const q = await http.get(`${companyUrl}/query`, {
          headers,
          params: { ...params, query: `SELECT * FROM Customer WHERE PrimaryEmailAddr = ${qboQuoted(email)}` },
        });
        if (q.status !== 200) throw new QboHttpError(q.status, [], 'a customer query');
        let customer = QueryAnswer.parse(q.data).QueryResponse.Customer?.find((c) => c.Active !== false);
        for (let attempt = 0; customer === undefined; attempt++) {
          const created = await http.post(
            `${companyUrl}/customer`,
            {
              DisplayName: displayNameCandidate(customerDisplayName(member), email, attempt),
              PrimaryEmailAddr: { Address: email },
            },
            { headers: { ...headers, 'Content-Type': 'application/json' }, params },
          );
          if (created.status === 200) {
            customer = CreateAnswer.parse(created.data).Customer;
            break;
          }
          const fault = FaultAnswer.safeParse(created.data);
          const codes = fault.success ? fault.data.Fault.Error.map((e) => e.code) : [];
          if (!codes.includes('6240') || attempt >= 9)
            throw new QboHttpError(created.status, codes, 'a customer create');
        }
        await clients.doc.send(
          new PutCommand({
            TableName: resources.customersTable,
            Item: { realmId: realm, email, customerId: customer.Id },
          }),
        );
        directory.set(email, { value: customer.Id, name: customer.DisplayName });
        processed++;
      },
    );
    if (!complete) return;

    const build = buildEntry({ payout, transactions, tenant: stored.books, customers: directory });
    if (build.outcome !== 'POST') throw new Error(`bench naive: the entry was not built: ${build.reason}`);
    const posted = await http.post(`${companyUrl}/${build.entry.type.toLowerCase()}`, build.entry.body, {
      headers: { ...headers, 'Content-Type': 'application/json' },
      params: { ...params, requestid: requestId },
    });
    if (posted.status !== 200) throw new QboHttpError(posted.status, [], `the ${build.entry.type}`);
    const id = build.entry.type === 'Deposit' ? EntryAnswer.parse(posted.data).Deposit.Id : 'journal-entry';
    await ledger.update(workload.payoutId, row.version, {
      status: 'POSTED',
      quickbooks: { type: build.entry.type, id },
      intent: null,
    });
  };

  try {
    await ctx.host.clearRequests();
    for (const c of Object.values(clients.counts)) c.reset();
    const standIns0 = await ctx.host.cpuUsage();
    const measured = await measure(work);
    const standIns1 = await ctx.host.cpuUsage();
    const stats = await ctx.host.stats();
    const row = await setupLedger(ctx).get(workload.payoutId);
    const { result: _ignored, ...figures } = measured;
    return {
      ...figures,
      calls: callsFrom(stats, clients.counts),
      outcome: outcomeOf(row),
      complete,
      emailsProcessed: processed,
      emailsTotal,
      concurrency,
      standInsCpuMs: cpuMsBetween(standIns0, standIns1),
    };
  } finally {
    destroyClients(clients);
  }
}
