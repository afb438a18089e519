/**
 * Local mode's logging. Every part logs through the Powertools logger (one JSON document a line, redacted). In a
 * terminal those lines are shown compactly, one readable line each (`10:51:42 INFO  deposit-builder  payout posted
 * to QuickBooks · payoutId=po_… id=34`); piped (CI, tests, log tools) they stay JSON. `POWERTOOLS_DEV=true` gives
 * Powertools' own pretty output instead.
 */

import { createLogger } from '../adapters/logging.js';
import type { AppLog } from '../app/log.js';

export function localLogger(): AppLog {
  const logger = createLogger('qbo-sync-local');
  return {
    debug: (message, extra) => (extra ? logger.debug(message, extra) : logger.debug(message)),
    info: (message, extra) => (extra ? logger.info(message, extra) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra) : logger.error(message)),
  };
}

const OMITTED = new Set(['level', 'message', 'timestamp', 'service', 'sampling_rate']);
const COLOURS: Record<string, string> = { WARN: '\u001b[33m', ERROR: '\u001b[31m', CRITICAL: '\u001b[31m' };
const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

/**
 * One Powertools JSON log line as a short readable line; undefined when `line` is not a log line. The values are
 * the logged ones (already redacted by the logger).
 */
export function compactLogLine(line: string, colour = false): string | undefined {
  const text = line.trimEnd();
  if (!text.startsWith('{"level":')) return undefined;
  let item: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    item = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const level = String(item.level ?? 'INFO');
  const time = typeof item.timestamp === 'string' ? new Date(item.timestamp) : new Date();
  const clock = Number.isNaN(time.getTime()) ? '' : time.toTimeString().slice(0, 8);
  const service = String(item.service ?? '').replace(/^qbo-sync-?/, '') || 'qbo-sync';
  const fields = Object.entries(item)
    .filter(([k]) => !OMITTED.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const head = `${clock} ${level.padEnd(5)} ${service.padEnd(15)} ${String(item.message ?? '')}`;
  const body = fields ? ` · ${fields}` : '';
  if (!colour) return `${head}${body}\n`;
  const c = COLOURS[level];
  return `${c ?? ''}${head}${c ? RESET : ''}${DIM}${body}${RESET}\n`;
}

type Write = NodeJS.WriteStream['write'];

/** Shows the JSON log lines written to `stream` compactly (see `compactLogLine`); other output passes unchanged. */
export function compactLogsOn(stream: NodeJS.WriteStream, colour: boolean): () => void {
  const original: Write = stream.write;
  const patched = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === 'string') {
      const compact = compactLogLine(chunk, colour);
      if (compact !== undefined)
        return (original as (...args: unknown[]) => boolean).call(stream, compact, ...rest);
    }
    return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
  };
  stream.write = patched as Write;
  return () => {
    stream.write = original;
  };
}

/**
 * Terminal-friendly logs for local mode: on a TTY, and unless `POWERTOOLS_DEV` is set (then Powertools prints its
 * pretty JSON), log lines on stdout and stderr are shown compactly. Returns the function that undoes it.
 */
export function readableLogs(env: NodeJS.ProcessEnv = process.env): () => void {
  if (env.POWERTOOLS_DEV !== undefined) return () => {};
  const undo: Array<() => void> = [];
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.isTTY) undo.push(compactLogsOn(stream, env.NO_COLOR === undefined));
  }
  return () => {
    for (const u of undo) u();
  };
}
