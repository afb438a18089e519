/**
 * How the CLI writes: one JSON document on stdout with `--json`, readable text otherwise. Colours only on a TTY
 * (and never with `NO_COLOR` or `--json`); progress bars (cli-progress) only on a TTY stderr and never with
 * `--json`, so piped output stays clean.
 */
import { SingleBar } from 'cli-progress';

export interface OutputOptions {
  json: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

type Paint = (text: string) => string;

const ansi =
  (open: number, close: number): Paint =>
  (text) =>
    `\u001b[${open}m${text}\u001b[${close}m`;
const plain: Paint = (text) => text;

export interface Progress {
  /** Sets the total (it may grow while paging). */
  total(total: number): void;
  update(done: number, label?: string): void;
  stop(): void;
}

const noProgress: Progress = { total: () => {}, update: () => {}, stop: () => {} };

export class Output {
  readonly json: boolean;
  readonly colour: boolean;
  readonly bold: Paint;
  readonly dim: Paint;
  readonly red: Paint;
  readonly green: Paint;
  readonly yellow: Paint;
  readonly cyan: Paint;
  private readonly stdout: NodeJS.WriteStream;
  private readonly stderr: NodeJS.WriteStream;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    const env = options.env ?? process.env;
    const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
    this.colour = !this.json && !noColour && this.stdout.isTTY === true && env.TERM !== 'dumb';
    const c = (open: number, close: number) => (this.colour ? ansi(open, close) : plain);
    this.bold = c(1, 22);
    this.dim = c(2, 22);
    this.red = c(31, 39);
    this.green = c(32, 39);
    this.yellow = c(33, 39);
    this.cyan = c(36, 39);
  }

  /** The command's result: JSON (with `--json`) or the text `human` renders. */
  result<T>(value: T, human: (value: T) => string): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else {
      const text = human(value);
      if (text !== '') this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /** A line for a person (stdout without `--json`, stderr with it so stdout stays one JSON document). */
  say(text: string): void {
    (this.json ? this.stderr : this.stdout).write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A note on stderr (warnings, progress words). */
  note(text: string): void {
    this.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A failure: `{"error": …}` on stdout with `--json`; the message on stderr either way. */
  error(message: string, extra: Record<string, unknown> = {}): void {
    if (this.json) this.stdout.write(`${JSON.stringify({ error: message, ...extra }, null, 2)}\n`);
    const colourErr = !this.json && this.stderr.isTTY === true && this.colour;
    this.stderr.write(`${colourErr ? ansi(31, 39)('error:') : 'error:'} ${message}\n`);
  }

  /** Runs `work` with a progress bar (see `progress`), stopped however the work ends. */
  async withProgress<T>(label: string, work: (progress: Progress) => Promise<T>): Promise<T> {
    const progress = this.progress(label);
    try {
      return await work(progress);
    } finally {
      progress.stop();
    }
  }

  /** A progress bar on a TTY stderr (never with `--json`); a no-op otherwise. */
  progress(label: string, total = 0): Progress {
    if (this.json || this.stderr.isTTY !== true) return noProgress;
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} {label}`,
      stream: this.stderr,
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: false,
    });
    let started = false;
    let currentTotal = total;
    const ensure = () => {
      if (!started) {
        bar.start(currentTotal, 0, { label: '' });
        started = true;
      }
    };
    return {
      total: (n) => {
        currentTotal = n;
        ensure();
        bar.setTotal(n);
      },
      update: (done, text) => {
        ensure();
        if (done > currentTotal) {
          currentTotal = done;
          bar.setTotal(done);
        }
        bar.update(done, { label: text ?? '' });
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
}

/** A plain-text table: columns padded to their widest cell; numbers right-aligned where asked. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  opts: { right?: readonly number[]; paint?: (text: string) => string } = {},
): string {
  const right = new Set(opts.right ?? []);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (row: readonly string[]) =>
    row
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const head = fmt(headers);
  return [
    opts.paint ? opts.paint(head) : head,
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(fmt),
  ].join('\n');
}

/** "3 min ago", "2 h ago", "5 d ago" from an ISO time. */
export function age(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** Shortens one-line text for a table cell. */
export function clip(text: string | null | undefined, width: number): string {
  const one = (text ?? '').replace(/\s+/g, ' ').trim();
  return one.length <= width ? one : `${one.slice(0, width - 1)}…`;
}
