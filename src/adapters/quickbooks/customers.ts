/**
 * Customers of one company: lookups by email (batched queries, or paging when that takes fewer calls or the
 * company refuses email queries), creation in batches with DisplayName retries, listing and lookup by name.
 */
import type { QboCustomer } from '../../app/ports.js';
import { normaliseEmail } from '../../domain/members.js';
import { displayNameCandidate, maskEmail, qboQuoted, rankCustomers } from './customer-rules.js';
import { QboTransientError, QboValidationFault } from './faults.js';
import { batchItemFault, toCustomer } from './responses.js';
import { BATCH_SIZE, PAGE_SIZE, type QboTransport } from './transport.js';

const MAX_NAME_ATTEMPTS = 10;
/** Ids a `SELECT … WHERE Id IN (…)` carries (well within a query's length and MAXRESULTS). */
const ID_QUERY_SIZE = 100;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Attaches the customers already created, and those QuickBooks refused, to an error thrown part-way, so the caller
 * can still map them.
 */
function withCreated(
  e: unknown,
  created: Map<string, QboCustomer>,
  refused: Map<string, QboValidationFault>,
): unknown {
  if (e instanceof Error) {
    if (created.size > 0) Object.assign(e, { createdCustomers: created });
    if (refused.size > 0) Object.assign(e, { refusedCustomers: refused });
  }
  return e;
}

/**
 * How long the list of every customer, read to confirm emails a query did not find, is trusted (new customers of
 * ours are added to it as they are made).
 */
const CUSTOMER_INDEX_TTL_MS = 5 * 60_000;

export class QboCustomers {
  /** Set after a 4001 on a PrimaryEmailAddr query: this company is matched by paging from then on. */
  private emailQueryRefused = false;
  /** Every active customer by lower-cased email, from the last full read (see `confirmMisses`). */
  private index: { at: number; byEmail: Map<string, QboCustomer[]> } | undefined;

  constructor(private readonly http: QboTransport) {}

  private get realmId(): string {
    return this.http.realmId;
  }

  private get tenantId(): string | undefined {
    return this.http.tenantId;
  }

  async findCustomersByEmail(emails: readonly string[]): Promise<Map<string, QboCustomer>> {
    const wanted = [
      ...new Set(emails.map((e) => normaliseEmail(e)).filter((e): e is string => e !== undefined)),
    ];
    if (wanted.length === 0) return new Map();
    if (this.emailQueryRefused) return this.matchByPaging(wanted);
    const lookupBatches = Math.ceil(wanted.length / BATCH_SIZE);
    // With a single lookup batch, paging can never take fewer calls: skip the count.
    if (lookupBatches > 1) {
      const count = await this.countCustomers();
      if (Math.ceil(count / PAGE_SIZE) < lookupBatches) return this.matchByPaging(wanted, count);
    }
    try {
      const found = await this.lookupByEmail(wanted);
      return await this.confirmMisses(wanted, found);
    } catch (e) {
      if (e instanceof QboValidationFault && e.hasCode('4001')) {
        this.emailQueryRefused = true;
        this.http.logger?.warn('QuickBooks refused a query on PrimaryEmailAddr (4001); matching by paging', {
          realmId: this.realmId,
        });
        return this.matchByPaging(wanted);
      }
      throw e;
    }
  }

  /**
   * Creates the members' customers in batches of 30. A taken DisplayName (6240) is retried under the next
   * candidate name; any other refusal of one customer (an email QuickBooks finds invalid, say) does not stop the
   * others. When anything failed, the first failure is thrown after every batch has settled, carrying
   * `createdCustomers` (email → customer) and `refusedCustomers` (email → the refusal), so the caller can map
   * what was made and put the refused members' lines elsewhere (CONTRACT §5).
   */
  async createCustomers(
    members: readonly { email: string; displayName: string }[],
  ): Promise<Map<string, QboCustomer>> {
    const created = new Map<string, QboCustomer>();
    const refused = new Map<string, QboValidationFault>();
    const byEmail = new Map<string, string>();
    for (const m of members) {
      const email = normaliseEmail(m.email);
      if (email !== undefined && !byEmail.has(email)) byEmail.set(email, m.displayName);
    }
    let pending = [...byEmail].map(([email, displayName]) => ({ email, displayName, attempt: 0 }));
    let failure: unknown;
    let exhausted: QboValidationFault | undefined;
    while (pending.length > 0 && failure === undefined) {
      const retry: typeof pending = [];
      // Every batch is awaited (settled) before an error is thrown, so nothing created goes unreported.
      const outcomes = await Promise.allSettled(
        chunk(pending, BATCH_SIZE).map(async (group) => {
          const items = group.map((m, i) => ({
            bId: String(i),
            operation: 'create',
            Customer: {
              DisplayName: displayNameCandidate(m.displayName, m.email, m.attempt),
              PrimaryEmailAddr: { Address: m.email },
            },
          }));
          const responses = await this.http.batch(items, 'the customer creation batch', true);
          let noAnswer: Error | undefined;
          group.forEach((m, i) => {
            const r = responses.get(String(i));
            if (r?.Customer) {
              const customer = { ...toCustomer(r.Customer), email: m.email };
              created.set(m.email, customer);
              this.index?.byEmail.set(m.email, [...(this.index.byEmail.get(m.email) ?? []), customer]);
              return;
            }
            const itemFault = r ? batchItemFault(r) : undefined;
            if (!itemFault) {
              noAnswer ??= new QboTransientError(
                `QuickBooks returned no answer for customer ${maskEmail(m.email)} in a batch`,
              );
              return;
            }
            const fault = new QboValidationFault(itemFault, {
              status: 200,
              operation: `the creation of customer ${maskEmail(m.email)}`,
              tenantId: this.tenantId,
            });
            if (fault.hasCode('6240')) {
              // A taken name: the next candidate; names exhausted is a failure (a person picks one), not a refusal.
              if (m.attempt + 1 < MAX_NAME_ATTEMPTS) retry.push({ ...m, attempt: m.attempt + 1 });
              else exhausted ??= fault;
            } else {
              refused.set(m.email, fault);
            }
          });
          if (noAnswer) throw noAnswer;
        }),
      );
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) failure = failed.reason;
      pending = retry;
    }
    failure ??= exhausted;
    const firstRefusal = refused.values().next().value;
    if (failure !== undefined || firstRefusal !== undefined) {
      throw withCreated(failure ?? firstRefusal, created, refused);
    }
    return created;
  }

  listCustomers(onPage?: (readSoFar: number) => void): Promise<QboCustomer[]> {
    return this.pageCustomers(undefined, onPage);
  }

  async findCustomerByName(displayName: string): Promise<QboCustomer | undefined> {
    const name = displayName.trim();
    const r = await this.http.query(
      `SELECT * FROM Customer WHERE DisplayName = ${qboQuoted(name)}`,
      'the customer query',
    );
    const found = (r.Customer ?? []).map(toCustomer);
    return (
      rankCustomers(found.filter((c) => c.displayName === name))[0] ??
      rankCustomers(found.filter((c) => c.displayName.trim().toLowerCase() === name.toLowerCase()))[0]
    );
  }

  /**
   * The active customers among `ids` (with their currencies), `Id IN (…)` queries of 100 Ids each: what completes
   * a mapping row stored before customers' currencies were kept.
   */
  async findCustomersById(ids: readonly string[]): Promise<Map<string, QboCustomer>> {
    const found = new Map<string, QboCustomer>();
    for (const group of chunk([...new Set(ids)], ID_QUERY_SIZE)) {
      const r = await this.http.query(
        `SELECT * FROM Customer WHERE Id IN (${group.map(qboQuoted).join(', ')}) MAXRESULTS ${PAGE_SIZE}`,
        'the customer read by Id',
      );
      for (const c of (r.Customer ?? []).map(toCustomer))
        if (c.active && group.includes(c.id)) found.set(c.id, c);
    }
    return found;
  }

  // ------------------------------------------------------------ customer lookups

  private async countCustomers(): Promise<number> {
    const r = await this.http.query('SELECT COUNT(*) FROM Customer', 'the customer count');
    return r.totalCount ?? 0;
  }

  /** Batched `PrimaryEmailAddr = …` queries, 30 a batch; the first batch alone, so a 4001 costs one call. */
  private async lookupByEmail(wanted: readonly string[]): Promise<Map<string, QboCustomer>> {
    const found = new Map<string, QboCustomer>();
    const groups = chunk(wanted, BATCH_SIZE);
    const runGroup = async (group: string[]) => {
      const items = group.map((email, i) => ({
        bId: String(i),
        Query: `SELECT * FROM Customer WHERE PrimaryEmailAddr = ${qboQuoted(email)}`,
      }));
      const responses = await this.http.batch(items, 'the customer lookup batch', false);
      group.forEach((email, i) => {
        const r = responses.get(String(i));
        const itemFault = r ? batchItemFault(r) : undefined;
        if (itemFault) {
          throw new QboValidationFault(itemFault, {
            status: 200,
            operation: 'the customer lookup by email',
            tenantId: this.tenantId,
          });
        }
        if (!r) throw new QboTransientError('QuickBooks returned no answer for a lookup in a batch');
        // The server-side match is not trusted: re-check it case-insensitively.
        const matches = (r.QueryResponse?.Customer ?? []).map(toCustomer).filter((c) => c.email === email);
        const winner = rankCustomers(matches)[0];
        if (winner?.active) found.set(email, winner);
      });
    };
    const [first, ...rest] = groups;
    if (first) await runGroup(first);
    const outcomes = await Promise.allSettled(rest.map(runGroup));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return found;
  }

  /**
   * Emails the query did not find are looked for in the list of every customer, compared case-insensitively here:
   * whether QuickBooks' `PrimaryEmailAddr = '…'` ignores case is undocumented, and a customer stored as
   * `Surf@Intuit.com` must be found for `surf@intuit.com` (CONTRACT §5). The list is read once per
   * CUSTOMER_INDEX_TTL_MS and realm client, and customers made since are added to it.
   */
  private async confirmMisses(
    wanted: readonly string[],
    found: Map<string, QboCustomer>,
  ): Promise<Map<string, QboCustomer>> {
    const misses = wanted.filter((e) => !found.has(e));
    if (misses.length === 0) return found;
    if (this.index === undefined || Date.now() - this.index.at > CUSTOMER_INDEX_TTL_MS) {
      const byEmail = new Map<string, QboCustomer[]>();
      for (const c of await this.pageCustomers()) {
        if (c.email !== undefined) byEmail.set(c.email, [...(byEmail.get(c.email) ?? []), c]);
      }
      this.index = { at: Date.now(), byEmail };
    }
    for (const email of misses) {
      const winner = rankCustomers(this.index.byEmail.get(email) ?? [])[0];
      if (winner?.active) found.set(email, winner);
    }
    return found;
  }

  private async matchByPaging(
    wanted: readonly string[],
    knownCount?: number,
  ): Promise<Map<string, QboCustomer>> {
    const set = new Set(wanted);
    const candidates = new Map<string, QboCustomer[]>();
    if (knownCount === 0) return new Map();
    for (const c of await this.pageCustomers(knownCount)) {
      if (c.email === undefined || !set.has(c.email)) continue;
      const list = candidates.get(c.email) ?? [];
      list.push(c);
      candidates.set(c.email, list);
    }
    const found = new Map<string, QboCustomer>();
    for (const [email, list] of candidates) {
      const winner = rankCustomers(list)[0];
      if (winner?.active) found.set(email, winner);
    }
    return found;
  }

  /**
   * Every active customer, 1000 a page. With a known count the pages are fetched concurrently (the limiter keeps
   * them within bounds); paging continues while pages come back full.
   */
  private async pageCustomers(
    knownCount?: number,
    onPage?: (readSoFar: number) => void,
  ): Promise<QboCustomer[]> {
    const pageAt = (start: number) =>
      this.http
        .query(
          `SELECT * FROM Customer STARTPOSITION ${start} MAXRESULTS ${PAGE_SIZE}`,
          'the customer list query',
        )
        .then((r) => (r.Customer ?? []).map(toCustomer));
    const byId = new Map<string, QboCustomer>();
    let readSoFar = 0;
    const add = (page: QboCustomer[]) => {
      for (const c of page) byId.set(c.id, c);
      readSoFar += page.length;
      onPage?.(readSoFar);
    };
    let next = 1;
    let lastFull = true;
    if (knownCount !== undefined && knownCount > 0) {
      const pages = Math.ceil(knownCount / PAGE_SIZE);
      const starts = Array.from({ length: pages }, (_, i) => i * PAGE_SIZE + 1);
      const results = await Promise.all(starts.map(pageAt));
      for (const page of results) add(page);
      next = pages * PAGE_SIZE + 1;
      lastFull = (results[results.length - 1]?.length ?? 0) === PAGE_SIZE;
    }
    while (lastFull) {
      const page = await pageAt(next);
      add(page);
      next += PAGE_SIZE;
      lastFull = page.length === PAGE_SIZE;
    }
    return [...byId.values()].filter((c) => c.active);
  }
}
