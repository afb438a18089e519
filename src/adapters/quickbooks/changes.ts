/**
 * What a person may have changed after the product posted: change data capture for Deposits and JournalEntries,
 * entries read back by Id, and the company's closing date.
 *
 * CDC (Intuit, "Change data capture operation", developer.intuit.com/app/developer/qbo/docs/learn/
 * explore-the-quickbooks-online-api/change-data-capture): `GET /cdc?entities=…&changedSince=…`, at most 30 days back,
 * at most 1,000 objects an answer, deleted objects as `status: "Deleted"`. The envelope
 * `{"CDCResponse":[{"QueryResponse":[{"Deposit":[…]},{"JournalEntry":[…]}]}]}` is read as ej2/python-quickbooks
 * `quickbooks/cdc.py` reads it. An answer holding 1,000 objects may have left some out: it is reported incomplete,
 * and the caller reads its entries by Id instead.
 */
import { z } from 'zod';
import type { EntryChange, EntryChanges, PostedRef } from '../../app/ports.js';
import { IdSchema, PreferencesSchema } from './responses.js';
import type { QboTransport } from './transport.js';

/** QuickBooks' look-back limit for CDC. */
export const CDC_MAX_DAYS = 30;
/** At most this many objects in one CDC answer. */
export const CDC_MAX_OBJECTS = 1000;
/** Ids per `Id IN (…)` query. */
const IDS_PER_QUERY = 100;

const ChangedSchema = z
  .object({
    Id: IdSchema,
    status: z.string().optional(),
    MetaData: z.object({ LastUpdatedTime: z.string().optional() }).loose().optional(),
  })
  .loose();

const CdcEnvelopeSchema = z
  .object({
    CDCResponse: z
      .array(
        z
          .object({
            QueryResponse: z
              .array(
                z
                  .object({
                    Deposit: z.array(ChangedSchema).optional(),
                    JournalEntry: z.array(ChangedSchema).optional(),
                  })
                  .loose(),
              )
              .default([]),
          })
          .loose(),
      )
      .default([]),
  })
  .loose();

const ENTRY_TYPES = ['Deposit', 'JournalEntry'] as const;

/** Deposits and JournalEntries changed (or deleted) since `since`, which must be within the last 30 days. */
export async function changedEntries(http: QboTransport, since: Date): Promise<EntryChanges> {
  const { data } = await http.send({
    method: 'GET',
    path: '/cdc',
    params: { entities: ENTRY_TYPES.join(','), changedSince: since.toISOString() },
    operation: 'change data capture',
    schema: CdcEnvelopeSchema,
  });
  const changes: EntryChange[] = [];
  let objects = 0;
  for (const cdc of data.CDCResponse) {
    for (const group of cdc.QueryResponse) {
      for (const type of ENTRY_TYPES) {
        for (const item of group[type] ?? []) {
          objects += 1;
          const deleted = item.status?.toLowerCase() === 'deleted';
          const at = item.MetaData?.LastUpdatedTime;
          changes.push({
            ref: { type, id: item.Id },
            deleted,
            ...(deleted ? {} : { body: item as Record<string, unknown> }),
            ...(at !== undefined ? { at } : {}),
          });
        }
      }
    }
  }
  return { changes, complete: objects < CDC_MAX_OBJECTS };
}

const EntriesQuerySchema = z
  .object({
    QueryResponse: z
      .object({ Deposit: z.array(ChangedSchema).optional(), JournalEntry: z.array(ChangedSchema).optional() })
      .loose()
      .default({}),
  })
  .loose();

/** The live entries among `ids` (a deleted one is absent), read with `SELECT * FROM <type> WHERE Id IN (…)`. */
export async function readEntries(
  http: QboTransport,
  type: PostedRef['type'],
  ids: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const chunk = ids.slice(i, i + IDS_PER_QUERY).map((id) => `'${id.replaceAll("'", "\\'")}'`);
    const { data } = await http.send({
      method: 'GET',
      path: '/query',
      params: { query: `SELECT * FROM ${type} WHERE Id IN (${chunk.join(', ')}) MAXRESULTS 1000` },
      operation: `reading ${type}s back`,
      schema: EntriesQuerySchema,
    });
    for (const entity of data.QueryResponse[type] ?? [])
      found.set(entity.Id, entity as Record<string, unknown>);
  }
  return found;
}

/** `Preferences.AccountingInfoPrefs.BookCloseDate` (YYYY-MM-DD), or null when the books have no closing date. */
export async function bookCloseDate(http: QboTransport): Promise<string | null> {
  const { data } = await http.send({
    method: 'GET',
    path: '/preferences',
    operation: 'reading the closing date',
    schema: PreferencesSchema,
  });
  const date = data.Preferences.AccountingInfoPrefs?.BookCloseDate;
  return date === undefined || date === null || date.trim() === '' ? null : date.slice(0, 10);
}
