/**
 * Fuzzing the sync config readers (CONTRACT §2, §8 `config validate`) with fast-check: random text, random YAML and
 * JSON documents, and random mutations of a valid config. Properties: the readers never throw; a file is either
 * valid (and then every tenant is well-formed) or comes back with problems that each name a tenant (or null for the
 * file), a config entry and a readable message — one problem per entry, never "undefined" or "[object Object]".
 * Both readers are fuzzed (the CLI's `config validate|import` and local mode's `--config`), and the CLI end to end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/adapters/config-file.js';
import { runCli } from '../../src/cli/main.js';
import { TenantConfigSchema } from '../../src/domain/config.js';

const VALID = {
  tenants: [
    {
      id: 'downtown-yoga',
      stripeAccount: 'acct_1PzXqR2eZvKYlo2C',
      quickbooks: {
        realmId: '9341453187',
        depositAccount: 'Checking',
        processingFeesAccount: 'Stripe Fees',
        platformFeesAccount: 'Platform Fees',
        disputesAccount: 'Chargebacks',
        adjustmentsAccount: 'Stripe Adjustments',
        uncategorizedAccount: 'Sales',
        walkInCustomer: 'Walk-in',
        lineDetail: 'customer',
        maxDepositLines: 1000,
      },
      revenue: [
        { category: 'Class Packs', account: 'Class Pack Revenue' },
        { category: 'Classes', subcategory: 'Virtual', account: 'Virtual Class Revenue', class: 'Online' },
      ],
    },
    {
      id: 'uptown-pilates',
      stripeAccount: 'platform',
      quickbooks: {
        realmId: 4620816365,
        depositAccount: 'Checking',
        processingFeesAccount: 'Stripe Fees',
        adjustmentsAccount: 'Stripe Adjustments',
      },
    },
  ],
};

type Json = unknown;

/** Every path into a JSON value (objects and arrays), the root included. */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...pathsOf(v, [...prefix, i]));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  }
  return out;
}

type Mutation =
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'delete'; at: number }
  | { kind: 'add'; at: number; key: string; value: Json }
  | { kind: 'duplicate-tenant' };

function mutate(doc: Json, mutations: Mutation[]): Json {
  let out: Json = structuredClone(doc);
  for (const m of mutations) {
    if (m.kind === 'duplicate-tenant') {
      const tenants = (out as { tenants?: unknown }).tenants;
      if (Array.isArray(tenants) && tenants.length > 0) tenants.push(structuredClone(tenants[0]));
      continue;
    }
    const paths = pathsOf(out);
    const target = paths[m.at % paths.length] ?? [];
    if (target.length === 0) {
      if (m.kind === 'replace') out = m.value;
      continue;
    }
    let parent = out as Record<string | number, Json>;
    for (const key of target.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
    const last = target[target.length - 1] as string | number;
    if (m.kind === 'replace') parent[last] = m.value;
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else {
      const child = parent[last];
      if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
        (child as Record<string, Json>)[m.key] = m.value;
      }
    }
  }
  return out;
}

const value = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 3 }),
  fc.constantFrom(
    '',
    ' ',
    'acct_',
    'platform',
    'Checking',
    'Undeposited Funds',
    '12ab',
    'UPPER-CASE',
    -1,
    0,
    1e21,
    null,
  ),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: fc.string({ maxLength: 12 }), value }),
  fc.constant({ kind: 'duplicate-tenant' as const }),
);

const yamlTokens = fc.constantFrom(
  'tenants:',
  '\n',
  '  - id: a',
  '  - ',
  '    quickbooks:',
  '      realmId: "1"',
  '\t',
  ': ',
  '- ',
  '&a ',
  '*a',
  '<<: *a',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  '# comment',
  '!!binary ',
  '!!js/function ',
  '---\n',
  '...\n',
  '? ',
  '|',
  '>',
  '%YAML 1.2\n',
  '\u0000',
  '\uFEFF',
);

/** A config file's text, and the name it is read under (the extension picks JSON or YAML). */
const configFile = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('yaml', 'json', 'json-pretty'),
      )
      .map(([ms, format]) => {
        const doc = mutate(VALID, ms);
        const text =
          format === 'yaml'
            ? (stringify(doc ?? null) ?? 'null')
            : format === 'json'
              ? (JSON.stringify(doc) ?? 'null')
              : (JSON.stringify(doc, null, 2) ?? 'null');
        return { text, name: format === 'yaml' ? 'sync.yaml' : 'sync.json' };
      }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((text) => ({ text, name: 'sync.yaml' })) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, name: 'sync.json' })),
  },
  {
    weight: 2,
    arbitrary: fc.array(yamlTokens, { maxLength: 40 }).map((t) => ({ text: t.join(''), name: 'sync.yml' })),
  },
  {
    weight: 1,
    arbitrary: fc.json({ maxDepth: 4 }).map((text) => ({ text, name: 'sync.json' })),
  },
  {
    weight: 1,
    arbitrary: fc.anything({ maxDepth: 3 }).map((v) => {
      let text: string;
      try {
        text = stringify(v) ?? String(v);
      } catch {
        text = String(v);
      }
      return { text, name: 'sync.yaml' };
    }),
  },
);

type Result = ReturnType<typeof parseConfigText>;

/**
 * The contract of the reader's answer; returns what is wrong with it (empty when all is well), including what
 * `config validate --json` promises (CONTRACT §8): one problem per entry, and messages of our own, not zod's
 * generic "expected object, received undefined".
 */
function answerProblems(result: Result): string[] {
  const wrong: string[] = [];
  if (result.ok) {
    if (result.config.tenants.length === 0) wrong.push('valid without tenants');
    for (const t of result.config.tenants) {
      if (!TenantConfigSchema.safeParse(t).success)
        wrong.push(`valid, but tenant ${t.id} is not well-formed`);
    }
    return wrong;
  }
  if (result.problems.length === 0) wrong.push('not valid, but no problem named');
  const seen = new Set<string>();
  for (const p of result.problems) {
    if (!(p.tenant === null || (typeof p.tenant === 'string' && p.tenant !== '')))
      wrong.push(`bad tenant ${String(p.tenant)}`);
    if (typeof p.entry !== 'string' || p.entry === '') wrong.push(`bad entry ${String(p.entry)}`);
    if (typeof p.message !== 'string' || p.message.trim() === '') wrong.push('empty message');
    if (/\[object Object\]|\bNaN\b/.test(p.message)) wrong.push(`unreadable message: ${p.message}`);
    if (/^\s+at /m.test(p.message)) wrong.push(`stack trace in message: ${p.message}`);
    if (/\bundefined\b/.test(p.message)) wrong.push(`unclear message: ${p.message}`);
    const key = `${p.tenant}\u0000${p.entry}`;
    if (seen.has(key)) wrong.push(`two problems for ${p.tenant ?? 'file'} / ${p.entry}`);
    seen.add(key);
  }
  return wrong;
}

it('the config reader (config validate|import and local --config): random files never crash it and always get clear problems', () => {
  fc.assert(
    fc.property(configFile, ({ text, name }) => {
      let result: Result;
      try {
        result = parseConfigText(text, name);
      } catch (error) {
        throw new Error(`parseConfigText threw on ${JSON.stringify(text.slice(0, 200))}: ${String(error)}`);
      }
      expect(answerProblems(result)).toEqual([]);
    }),
    { numRuns: 800, seed: 20261127 },
  );
});

it.each([
  [
    'a YAML alias bomb',
    `a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`).join('\n')}\ntenants: *m\n`,
  ],
  ['a custom tag', 'tenants: !!js/function "function () {}"\n'],
  ['JSON with a BOM', `\uFEFF${JSON.stringify(VALID)}`],
  ['JSON with a lone surrogate', `{"tenants": [{"id": "\uD800"}]}`],
  [
    'a number too large for JSON',
    '{"tenants": [{"id": "aa", "stripeAccount": "platform", "quickbooks": {"realmId": 1e400}}]}',
  ],
  ['__proto__ keys', '{"__proto__": {"tenants": []}, "tenants": [{"__proto__": {"id": "aa"}}]}'],
])('%s: clear problems, no crash', (_what, text) => {
  for (const name of ['sync.yaml', 'sync.json']) {
    let result: Result | undefined;
    expect(() => {
      result = parseConfigText(text, name);
    }).not.toThrow();
    if (result) expect(answerProblems(result)).toEqual([]);
  }
});

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

/** Runs `qbo-sync config validate <file> --json` in-process on `text`; asserts the CONTRACT §8 answer. */
async function validateWithCli(dir: string, text: string, name: string): Promise<void> {
  // Prepare
  const file = path.join(dir, name);
  writeFileSync(file, text);
  const out = sink();
  const err = sink();

  // Act
  const code = await runCli(['config', 'validate', file, '--json'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdout: out.stream,
    stderr: err.stream,
  });

  // Assess
  expect([0, 1]).toContain(code);
  const json = JSON.parse(out.text()) as { valid: boolean; problems: unknown[] };
  expect(json.valid).toBe(code === 0);
  expect(Array.isArray(json.problems)).toBe(true);
  expect(json.problems.length === 0).toBe(code === 0);
  expect(`${out.text()}${err.text()}`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

describe('`qbo-sync config validate F --json`', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qbo-fuzz-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on random files: exit 0 or 1, {valid, problems} on stdout, never a stack trace', async () => {
    await fc.assert(
      fc.asyncProperty(configFile, ({ text, name }) => validateWithCli(dir, text, name)),
      { numRuns: 60, seed: 99 },
    );
  });

  it.each([
    ['an alias to no anchor', '*a'],
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`).join('\n')}\n`,
    ],
    ['an empty key', 'tenants:\n  - id: aa\n    "": x\n'],
  ])('on %s: {valid: false, problems} like any other bad file', async (_what, text) => {
    await validateWithCli(dir, text, 'sync.yaml');
  });
});
