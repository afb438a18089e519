/**
 * Reading a sync config file (CONTRACT §2), for the CLI's `config validate` / `config import` and local mode's
 * `--config F`: YAML or JSON text → the validated `SyncConfigFile`, or every problem as `{tenant, entry, message}`:
 * - a syntax error is a file-level problem (`tenant: null`) naming its line and column;
 * - a shape problem names the tenant (its id, or `tenants[i]` when the id is unusable) and the config path of the
 *   entry (`quickbooks.depositAccount`, `revenue[2].class`); one problem per entry, the first found.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isCollection, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import type { ConfigProblem } from '../app/tenant-config.js';
import { type SyncConfigFile, SyncConfigFileSchema } from '../domain/config.js';

export type ReadConfigResult =
  | { ok: true; config: SyncConfigFile }
  | { ok: false; problems: ConfigProblem[] };

// ------------------------------------------------------------------------------------------------ JSON syntax

/** Where the first JSON syntax error is (JSON.parse does not always say), and what was expected there. */
export function jsonSyntaxError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  const fail = (message: string): never => {
    throw { offset: i, message };
  };
  const ws = () => {
    while (i < text.length && /[ \t\n\r]/.test(text[i] as string)) i++;
  };
  const describe = () => (i >= text.length ? 'the end of the file' : `"${text[i]}"`);
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${describe()}: expected a value`);
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if ((text.charCodeAt(i) ?? 0) < 0x20)
        fail('a line break or control character inside a text value');
      i++;
    }
    if (i >= text.length) fail('a text value is not closed with "');
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail(`unexpected ${describe()}: expected a value`);
    i += m?.[0].length ?? 0;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`unexpected ${describe()}: expected a key in double quotes`);
        string();
        ws();
        if (text[i] !== ':') fail(`unexpected ${describe()}: expected ":" after the key`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`unexpected ${describe()}: expected "," or "}"`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`unexpected ${describe()}: expected "," or "]"`);
      }
    }
    if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c !== undefined && /[-\d]/.test(c)) number();
    else fail(`unexpected ${describe()}: expected a value`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describe()} after the end of the document`);
    return undefined;
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'offset' in error) {
      return error as { offset: number; message: string };
    }
    throw error;
  }
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return { line, col };
}

// ------------------------------------------------------------------------------------------------ shape

type Key = PropertyKey;

/** `['quickbooks','depositAccount']` → `quickbooks.depositAccount`; `['revenue',2,'class']` → `revenue[2].class`. */
export function entryPath(parts: readonly Key[]): string {
  let out = '';
  for (const part of parts) {
    // An empty key is shown as "" so the entry is never blank.
    const name = String(part) === '' ? '""' : String(part);
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? name : `.${name}`;
  }
  return out;
}

function at(raw: unknown, parts: readonly Key[]): { found: boolean; value: unknown } {
  let current: unknown = raw;
  for (const part of parts) {
    if (typeof current !== 'object' || current === null || !(part in (current as object))) {
      return { found: false, value: undefined };
    }
    current = (current as Record<Key, unknown>)[part];
  }
  return { found: true, value: current };
}

const KNOWN_KEYS: Record<string, string> = {
  file: 'tenants',
  tenant: 'id, stripeAccount, quickbooks, revenue',
  quickbooks:
    'realmId, depositAccount, processingFeesAccount, platformFeesAccount, disputesAccount, adjustmentsAccount, uncategorizedAccount, walkInCustomer, lineDetail, maxDepositLines, closedPeriod, refreshToken',
  revenue: 'category, subcategory, account, class',
};

function messageFor(issue: z.core.$ZodIssue, raw: unknown): { path: Key[]; message: string } {
  const issuePath = [...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    const where =
      issuePath.length === 0 ? 'file' : issuePath.length === 2 ? 'tenant' : String(issuePath[2] ?? '');
    const known = KNOWN_KEYS[where];
    return {
      path: keys.length === 1 ? [...issuePath, keys[0] as string] : issuePath,
      message: `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}: remove ${keys.length > 1 ? 'them' : 'it'} or fix the spelling${known ? ` (known keys: ${known})` : ''}`,
    };
  }
  const { found } = at(raw, issuePath);
  const last = issuePath[issuePath.length - 1];
  if (!found && issue.code === 'invalid_type' && last !== undefined && typeof last !== 'number') {
    return { path: issuePath, message: `${String(last)} is missing: it is required` };
  }
  return { path: issuePath, message: issue.message };
}

/** Checks the shape of an already parsed document. */
export function checkConfigShape(raw: unknown): ReadConfigResult {
  const parsed = SyncConfigFileSchema.safeParse(raw);
  if (parsed.success) return { ok: true, config: parsed.data };
  const tenantsRaw = at(raw, ['tenants']).value;
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const issue of parsed.error.issues) {
    const { path: parts, message } = messageFor(issue, raw);
    const [top, index, ...rest] = parts;
    let tenant: string | null = null;
    let entry = entryPath(parts) || 'file';
    if (top === 'tenants' && typeof index === 'number') {
      const t = Array.isArray(tenantsRaw) ? tenantsRaw[index] : undefined;
      const id = typeof t === 'object' && t !== null ? (t as { id?: unknown }).id : undefined;
      tenant = typeof id === 'string' && /^[a-z0-9-]{2,64}$/.test(id) ? id : `tenants[${index}]`;
      entry = rest.length > 0 ? entryPath(rest) : 'tenant';
    }
    const key = `${tenant}\u0000${entry}`;
    if (seen.has(key)) continue; // one problem per entry
    seen.add(key);
    problems.push({ tenant, entry, message });
  }
  return { ok: false, problems };
}

/** Parses YAML or JSON text (JSON when the file name ends in .json or the text starts with `{`). */
export function parseConfigText(text: string, fileName: string): ReadConfigResult {
  const name = path.basename(fileName);
  const isJson = fileName.toLowerCase().endsWith('.json') || text.trimStart().startsWith('{');
  if (isJson) {
    const error = jsonSyntaxError(text);
    if (error !== undefined) {
      const { line, col } = lineCol(text, error.offset);
      return {
        ok: false,
        problems: [
          { tenant: null, entry: 'file', message: `${name} line ${line}, column ${col}: ${error.message}` },
        ],
      };
    }
    return checkConfigShape(JSON.parse(text));
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.slice(0, 1).map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          tenant: null,
          entry: 'file',
          message: `${name} line ${pos.line}, column ${pos.col}: ${e.message.split('\n')[0]}`,
        };
      }),
    };
  }
  // A key that is itself a list or a mapping (`? [a]: 1`, `{x: 1}: 2`) names no config key; JavaScript objects could
  // only stringify it (and yaml would warn on the process). Refuse it with its line instead.
  let collectionKey: { range?: readonly number[] | null } | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key)) {
        collectionKey = pair.key;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (collectionKey !== undefined) {
    const pos = lineCounter.linePos(collectionKey.range?.[0] ?? 0);
    return {
      ok: false,
      problems: [
        {
          tenant: null,
          entry: 'file',
          message: `${name} line ${pos.line}, column ${pos.col}: a key must be a plain name (like tenants: or account:), not a list or a mapping`,
        },
      ],
    };
  }
  let raw: unknown;
  try {
    // Aliases are resolved here: one to no anchor, or an alias bomb, throws (no line is known for it).
    raw = doc.toJS();
  } catch (error) {
    return {
      ok: false,
      problems: [
        {
          tenant: null,
          entry: 'file',
          message: `${name}: ${error instanceof Error ? error.message : String(error)}`,
        },
      ],
    };
  }
  if (raw === null || raw === undefined) {
    return {
      ok: false,
      problems: [{ tenant: null, entry: 'file', message: `${name} is empty: it needs a tenants: list` }],
    };
  }
  return checkConfigShape(raw);
}

export function readConfigFile(file: string): ReadConfigResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : String(code ?? error);
    return { ok: false, problems: [{ tenant: null, entry: 'file', message: `cannot read ${file}: ${why}` }] };
  }
  return parseConfigText(text, file);
}
