/**
 * The reversal of a posted entry (CONTRACT §4: `payout.failed` after posting where deletion is refused): a
 * JournalEntry that exactly undoes a Deposit or JournalEntry this builder wrote.
 */
import { z } from 'zod';
import { reversalNotePrefix } from './entry-common.js';
import { decimalToScaled, scaledToDecimalString } from './money.js';
import type { QboEntry } from './types.js';

const RefSchema = z
  .object({ value: z.union([z.string(), z.number()]).transform(String), name: z.string().optional() })
  .loose();

const EntityRefSchema = z.object({ value: z.string().nullable(), name: z.string().optional() }).loose();

const PostedDepositSchema = z
  .object({
    Id: z.union([z.string(), z.number()]).optional(),
    DepositToAccountRef: RefSchema,
    CurrencyRef: RefSchema.optional(),
    ExchangeRate: z.union([z.number(), z.string()]).optional(),
    Line: z.array(
      z
        .object({
          Amount: z.number(),
          Description: z.string().optional(),
          DepositLineDetail: z
            .object({
              AccountRef: RefSchema,
              ClassRef: RefSchema.optional(),
              Entity: EntityRefSchema.optional(),
            })
            .loose(),
        })
        .loose(),
    ),
  })
  .loose();

const PostedJournalSchema = z
  .object({
    Id: z.union([z.string(), z.number()]).optional(),
    CurrencyRef: RefSchema.optional(),
    ExchangeRate: z.union([z.number(), z.string()]).optional(),
    Line: z.array(
      z
        .object({
          Amount: z.number(),
          Description: z.string().optional(),
          JournalEntryLineDetail: z
            .object({
              PostingType: z.enum(['Debit', 'Credit']),
              AccountRef: RefSchema,
              ClassRef: RefSchema.optional(),
              Entity: z
                .object({ Type: z.string().optional(), EntityRef: EntityRefSchema })
                .loose()
                .optional(),
            })
            .loose(),
        })
        .loose(),
    ),
  })
  .loose();

/** A posted entry's `ExchangeRate` (home-currency units per foreign unit), when it is a positive number. */
function rateOf(value: number | string | undefined): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Amounts with up to 3 decimals (every currency), summed exactly. */
const SCALE = 3;

function plainRef(ref: { value: string; name?: string | undefined }): { value: string; name?: string } {
  return ref.name === undefined ? { value: ref.value } : { value: ref.value, name: ref.name };
}

function entityJson(entity: { value: string | null; name?: string | undefined }): Record<string, unknown> {
  const ref: Record<string, unknown> = { value: entity.value };
  if (entity.name !== undefined) ref.name = entity.name;
  return { Type: 'Customer', EntityRef: ref };
}

/**
 * A JournalEntry that exactly reverses a posted Deposit (deposit account credited with the total, each line's
 * account debited for positive lines and credited for negative ones) or JournalEntry (posting types swapped).
 * Throws an Error naming the problem when `posted` is not a body this builder could have written.
 */
export function buildReversalEntry(posted: QboEntry, payoutId: string, txnDate: string): QboEntry {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(txnDate)) throw new Error(`txnDate must be YYYY-MM-DD, got "${txnDate}"`);
  const lines: Record<string, unknown>[] = [];
  let postedId: string | undefined;
  let currencyRef: { value: string; name?: string } | undefined;
  // A reversal converts at the rate of the entry it reverses, so the home-currency amounts cancel exactly
  // (CONTRACT §4), whatever QuickBooks' rate for the day of the reversal.
  let exchangeRate: number | undefined;
  if (posted.type === 'Deposit') {
    const parsed = PostedDepositSchema.safeParse(posted.body);
    if (!parsed.success) {
      throw new Error(`cannot reverse the posted Deposit: ${z.prettifyError(parsed.error)}`);
    }
    const body = parsed.data;
    postedId = body.Id === undefined ? undefined : String(body.Id);
    currencyRef = body.CurrencyRef === undefined ? undefined : plainRef(body.CurrencyRef);
    exchangeRate = rateOf(body.ExchangeRate);
    let total = 0;
    const reversed: Record<string, unknown>[] = [];
    for (const line of body.Line) {
      const scaled = decimalToScaled(line.Amount, SCALE);
      if (scaled === 0) continue;
      total += scaled;
      const d = line.DepositLineDetail;
      const detail: Record<string, unknown> = {
        PostingType: scaled > 0 ? 'Debit' : 'Credit',
        AccountRef: plainRef(d.AccountRef),
      };
      if (d.ClassRef !== undefined) detail.ClassRef = plainRef(d.ClassRef);
      if (d.Entity !== undefined) detail.Entity = entityJson(d.Entity);
      reversed.push({
        Amount: Number(scaledToDecimalString(Math.abs(scaled), SCALE)),
        DetailType: 'JournalEntryLineDetail',
        Description: line.Description ?? '',
        JournalEntryLineDetail: detail,
      });
    }
    if (total !== 0) {
      lines.push({
        Amount: Number(scaledToDecimalString(Math.abs(total), SCALE)),
        DetailType: 'JournalEntryLineDetail',
        Description: `${reversalNotePrefix(payoutId)}: deposit reversed`,
        JournalEntryLineDetail: {
          PostingType: total > 0 ? 'Credit' : 'Debit',
          AccountRef: plainRef(body.DepositToAccountRef),
        },
      });
    }
    lines.push(...reversed);
  } else {
    const parsed = PostedJournalSchema.safeParse(posted.body);
    if (!parsed.success) {
      throw new Error(`cannot reverse the posted JournalEntry: ${z.prettifyError(parsed.error)}`);
    }
    const body = parsed.data;
    postedId = body.Id === undefined ? undefined : String(body.Id);
    currencyRef = body.CurrencyRef === undefined ? undefined : plainRef(body.CurrencyRef);
    exchangeRate = rateOf(body.ExchangeRate);
    let balance = 0;
    for (const line of body.Line) {
      const scaled = decimalToScaled(line.Amount, SCALE);
      if (scaled === 0) continue;
      const d = line.JournalEntryLineDetail;
      balance += d.PostingType === 'Debit' ? scaled : -scaled;
      const detail: Record<string, unknown> = {
        PostingType: d.PostingType === 'Debit' ? 'Credit' : 'Debit',
        AccountRef: plainRef(d.AccountRef),
      };
      if (d.ClassRef !== undefined) detail.ClassRef = plainRef(d.ClassRef);
      if (d.Entity !== undefined) detail.Entity = entityJson(d.Entity.EntityRef);
      lines.push({
        Amount: line.Amount,
        DetailType: 'JournalEntryLineDetail',
        Description: line.Description ?? '',
        JournalEntryLineDetail: detail,
      });
    }
    if (balance !== 0)
      throw new Error('cannot reverse the posted JournalEntry: its debits and credits differ');
  }
  if (lines.length === 0)
    throw new Error(`cannot reverse the posted ${posted.type}: it has no lines with an amount`);
  return {
    type: 'JournalEntry',
    body: {
      TxnDate: txnDate,
      ...(currencyRef === undefined ? {} : { CurrencyRef: currencyRef }),
      ...(currencyRef === undefined || exchangeRate === undefined ? {} : { ExchangeRate: exchangeRate }),
      PrivateNote: `${reversalNotePrefix(payoutId)} · reverses ${posted.type}${postedId === undefined ? '' : ` ${postedId}`}`,
      Line: lines,
    },
  };
}
