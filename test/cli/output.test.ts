/** Colours only on a TTY (never with NO_COLOR or --json); progress bars only on a TTY stderr and never with --json. */
import { Writable } from 'node:stream';
import { age, clip, Output, table } from '../../src/cli/output.js';

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
  // cli-progress asks a TTY stream for its size and moves the cursor.
  columns = 100;
  cursorTo(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
}

function output(opts: { tty: boolean; json?: boolean; env?: NodeJS.ProcessEnv }) {
  const stdout = new Capture(opts.tty);
  const stderr = new Capture(opts.tty);
  const out = new Output({
    json: opts.json ?? false,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    env: opts.env ?? {},
  });
  return { out, stdout, stderr };
}

const ESC = '\u001b[';

describe('Output', () => {
  test('colours on a TTY only, and never with NO_COLOR, TERM=dumb or --json', () => {
    const cases = [
      { tty: true, env: {}, coloured: true },
      { tty: false, env: {}, coloured: false },
      { tty: true, env: { NO_COLOR: '1' }, coloured: false },
      { tty: true, env: { TERM: 'dumb' }, coloured: false },
      { tty: true, json: true, env: {}, coloured: false },
    ];
    for (const c of cases) {
      const { out, stdout } = output(c);
      out.result({ ok: true }, () => out.green('done'));
      expect({ ...c, printed: stdout.text.includes(ESC) }).toEqual({ ...c, printed: c.coloured });
    }
  });

  test('--json prints one JSON document on stdout; notes and errors go to stderr', () => {
    const { out, stdout, stderr } = output({ tty: false, json: true });
    out.say('for people');
    out.result({ a: 1 }, () => 'text');
    out.error('it broke', { hint: 'fix it' });
    expect(stderr.text).toContain('for people');
    expect(stderr.text).toContain('error: it broke');
    const docs = stdout.text
      .trim()
      .split(/\n(?=\{)/)
      .map((d) => JSON.parse(d));
    expect(docs).toEqual([{ a: 1 }, { error: 'it broke', hint: 'fix it' }]);
  });

  test('a progress bar draws on a TTY stderr only, never with --json', () => {
    for (const c of [
      { tty: true, json: false, drawn: true },
      { tty: false, json: false, drawn: false },
      { tty: true, json: true, drawn: false },
    ]) {
      const { out, stderr } = output(c);
      const bar = out.progress('Reading', 10);
      bar.update(5);
      bar.stop();
      expect({ ...c, wrote: stderr.text.includes('5/10') }).toEqual({ ...c, wrote: c.drawn });
    }
  });

  test('tables pad columns; ages and clipped cells read well', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['xyz', '1'],
          ['a', '22'],
        ],
        { right: [1] },
      ),
    ).toBe('A    LONGER\n---  ------\nxyz       1\na        22');
    const now = Date.parse('2026-01-02T00:00:00Z');
    expect(age('2026-01-01T23:59:30Z', now)).toBe('30 s ago');
    expect(age('2026-01-01T23:00:00Z', now)).toBe('1 h ago');
    expect(age('2025-12-30T00:00:00Z', now)).toBe('3 d ago');
    expect(clip('a  long\ntext here', 8)).toBe('a long …');
  });
});
