/**
 * Tenants in the tenants table (pk `pk`): `TENANT#<id>` holds the resolved books and the config entry,
 * `ACCOUNT#<stripeAccount>` points to the tenant owning that Stripe account. Both are written in one transaction,
 * so a Stripe account can never belong to two tenants. (`LOCK#…` items of the same table belong to the token store.)
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, paginateScan, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { PermanentError, TransientError } from '../../app/errors.js';
import type { StoredTenant, TenantStore } from '../../app/ports.js';
import { CLOSED_PERIOD_POLICIES, LINE_DETAIL_MODES, TenantConfigSchema } from '../../domain/config.js';
import type { TenantBooks } from '../../domain/types.js';
import { cancellationCodes, isConditionFailed, parseItem } from './util.js';

const RefSchema = z.object({ value: z.string(), name: z.string().optional() });
export const TenantBooksSchema = z.object({
  tenantId: z.string(),
  stripeAccount: z.string(),
  realmId: z.string(),
  depositAccount: RefSchema.extend({ currency: z.string().optional() }),
  processingFeesAccount: RefSchema,
  platformFeesAccount: RefSchema,
  disputesAccount: RefSchema.optional(),
  adjustmentsAccount: RefSchema,
  uncategorizedAccount: RefSchema.optional(),
  walkInCustomer: RefSchema.optional(),
  lineDetail: z.enum(LINE_DETAIL_MODES),
  maxDepositLines: z.number().int().positive(),
  // Tenants imported before the policy existed read as the default.
  closedPeriod: z.enum(CLOSED_PERIOD_POLICIES).default('hold'),
  revenue: z.array(
    z.object({
      category: z.string(),
      subcategory: z.string().optional(),
      account: RefSchema,
      class: RefSchema.optional(),
    }),
  ),
  company: z.object({
    homeCurrency: z.string(),
    multicurrency: z.boolean(),
    classTrackingPerTxnLine: z.boolean(),
  }),
}) satisfies z.ZodType<TenantBooks>;

const TenantItemSchema = z.object({
  pk: z.string(),
  stripeAccount: z.string(),
  books: TenantBooksSchema,
  source: TenantConfigSchema,
  updatedAt: z.string(),
});
const AccountItemSchema = z.object({ pk: z.string(), tenantId: z.string() });

/** The tenants-table keys of a tenant, of the Stripe account index, and of a QuickBooks company's binding. */
export const tenantKey = (id: string) => `TENANT#${id}`;
export const accountKey = (stripeAccount: string) => `ACCOUNT#${stripeAccount}`;
export const realmKey = (realmId: string) => `REALM#${realmId}`;

/** `put` refused: the Stripe account already belongs to another tenant. */
export class StripeAccountTakenError extends PermanentError {
  override readonly name = 'StripeAccountTakenError';
  constructor(
    readonly stripeAccount: string,
    readonly ownerTenantId: string,
    readonly tenantId: string,
  ) {
    super(
      `Stripe account ${stripeAccount} already belongs to tenant "${ownerTenantId}", so tenant "${tenantId}" cannot use it`,
      `give tenant "${tenantId}" its own stripeAccount, or move ${stripeAccount} off tenant "${ownerTenantId}" first (import a config where it no longer uses it)`,
    );
  }
}

export interface DynamoTenantStoreOptions {
  doc: DynamoDBDocumentClient;
  /** The tenants table (env `TENANTS_TABLE`). */
  tableName: string;
}

export class DynamoTenantStore implements TenantStore {
  /** DynamoDB requests made (for the benchmark and tests). */
  calls = 0;
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoTenantStoreOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
  }

  async get(tenantId: string): Promise<StoredTenant | undefined> {
    this.calls++;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: tenantKey(tenantId) }, ConsistentRead: true }),
    );
    return Item ? this.toStored(Item) : undefined;
  }

  async accountOwner(stripeAccount: string): Promise<string | undefined> {
    this.calls++;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: accountKey(stripeAccount) }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return parseItem(AccountItemSchema, Item, `${this.table} item ${accountKey(stripeAccount)}`).tenantId;
  }

  /** The tenant a QuickBooks company is bound to (by the OAuth callback), if any. */
  async realmOwner(realmId: string): Promise<string | undefined> {
    this.calls++;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: realmKey(realmId) }, ConsistentRead: true }),
    );
    return Item
      ? parseItem(AccountItemSchema, Item, `${this.table} item ${realmKey(realmId)}`).tenantId
      : undefined;
  }

  /** Binds a QuickBooks company to a tenant, unless another tenant holds it: that tenant's id then. */
  async bindRealm(realmId: string, tenantId: string): Promise<string | undefined> {
    this.calls++;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: realmKey(realmId),
            kind: 'realm',
            tenantId,
            realmId,
            boundAt: new Date().toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR tenantId = :id',
          ExpressionAttributeValues: { ':id': tenantId },
        }),
      );
      return undefined;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    return (await this.realmOwner(realmId)) ?? 'another tenant';
  }

  async findByStripeAccount(stripeAccount: string): Promise<StoredTenant | undefined> {
    const owner = await this.accountOwner(stripeAccount);
    if (owner === undefined) return undefined;
    const tenant = await this.get(owner);
    // A pointer left behind by a half-finished move is ignored rather than trusted.
    return tenant?.books.stripeAccount === stripeAccount ? tenant : undefined;
  }

  async list(): Promise<StoredTenant[]> {
    const out: StoredTenant[] = [];
    const pages = paginateScan(
      { client: this.doc },
      {
        TableName: this.table,
        FilterExpression: 'begins_with(pk, :t)',
        ExpressionAttributeValues: { ':t': 'TENANT#' },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      this.calls++;
      for (const item of page.Items ?? []) out.push(this.toStored(item));
    }
    return out.sort((a, b) => a.books.tenantId.localeCompare(b.books.tenantId));
  }

  async put(tenant: StoredTenant): Promise<void> {
    const { tenantId, stripeAccount } = tenant.books;
    if (tenant.source.id !== tenantId || tenant.source.stripeAccount !== stripeAccount) {
      throw new Error(
        `tenant "${tenantId}": books and config entry disagree (config id "${tenant.source.id}", stripeAccount "${tenant.source.stripeAccount}")`,
      );
    }
    let keepOldPointer = false;
    for (let attempt = 0; attempt < 5; attempt++) {
      this.calls++;
      const { Item: current } = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: { pk: tenantKey(tenantId) }, ConsistentRead: true }),
      );
      const oldAccount = typeof current?.stripeAccount === 'string' ? current.stripeAccount : undefined;
      const moving = oldAccount !== undefined && oldAccount !== stripeAccount && !keepOldPointer;
      try {
        this.calls++;
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: {
                    pk: tenantKey(tenantId),
                    kind: 'tenant',
                    tenantId,
                    stripeAccount,
                    books: tenant.books,
                    source: tenant.source,
                    updatedAt: tenant.updatedAt,
                  },
                  // Optimistic: nobody moved this tenant since we read it.
                  ...(oldAccount === undefined
                    ? { ConditionExpression: 'attribute_not_exists(pk)' }
                    : {
                        ConditionExpression: 'stripeAccount = :old',
                        ExpressionAttributeValues: { ':old': oldAccount },
                      }),
                },
              },
              {
                Put: {
                  TableName: this.table,
                  Item: { pk: accountKey(stripeAccount), kind: 'account', tenantId, stripeAccount },
                  ConditionExpression: 'attribute_not_exists(pk) OR tenantId = :id',
                  ExpressionAttributeValues: { ':id': tenantId },
                },
              },
              ...(moving
                ? [
                    {
                      Delete: {
                        TableName: this.table,
                        Key: { pk: accountKey(oldAccount) },
                        ConditionExpression: 'attribute_not_exists(pk) OR tenantId = :id',
                        ExpressionAttributeValues: { ':id': tenantId },
                      },
                    },
                  ]
                : []),
            ],
          }),
        );
        return;
      } catch (err) {
        const codes = cancellationCodes(err);
        if (!codes) throw err;
        if (codes[1] === 'ConditionalCheckFailed') {
          this.calls++;
          const { Item } = await this.doc.send(
            new GetCommand({
              TableName: this.table,
              Key: { pk: accountKey(stripeAccount) },
              ConsistentRead: true,
            }),
          );
          const owner = Item
            ? parseItem(AccountItemSchema, Item, `${this.table} item ${accountKey(stripeAccount)}`)
            : undefined;
          if (owner && owner.tenantId !== tenantId)
            throw new StripeAccountTakenError(stripeAccount, owner.tenantId, tenantId);
        }
        // The old pointer now belongs to someone else: leave it alone.
        if (codes[2] === 'ConditionalCheckFailed') keepOldPointer = true;
        // Otherwise the tenant changed under us (or the owner just left): read again and retry.
      }
    }
    throw new TransientError(
      `tenant "${tenantId}" could not be written: it kept changing concurrently; try again`,
    );
  }

  private toStored(item: Record<string, unknown>): StoredTenant {
    const parsed = parseItem(TenantItemSchema, item, `${this.table} item ${String(item.pk)}`);
    return { books: parsed.books, source: parsed.source, updatedAt: parsed.updatedAt };
  }
}
