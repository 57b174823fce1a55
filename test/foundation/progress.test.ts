import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseProgressMode, colorEnabled, createRenderer, formatAmount, formatDuration } from '../../src/progress/render.ts';

function capture(isTTY = false) {
  const chunks: string[] = [];
  return { stream: { write: (c: string) => chunks.push(c), isTTY, columns: 80 }, text: () => chunks.join('') };
}

test('mode: TTY gets bars, a pipe gets plain lines, --json silences unless ndjson', () => {
  assert.equal(chooseProgressMode({ json: false, isTTY: true }), 'tty');
  assert.equal(chooseProgressMode({ json: false, isTTY: false }), 'plain');
  assert.equal(chooseProgressMode({ json: true, isTTY: true }), 'none');
  assert.equal(chooseProgressMode({ requested: 'ndjson', json: true, isTTY: false }), 'ndjson');
  assert.equal(chooseProgressMode({ requested: 'none', json: false, isTTY: true }), 'none');
});

test('NO_COLOR disables colour; FORCE_COLOR forces it', () => {
  assert.equal(colorEnabled({ NO_COLOR: '1' }, true), false);
  assert.equal(colorEnabled({}, true), true);
  assert.equal(colorEnabled({}, false), false);
  assert.equal(colorEnabled({ FORCE_COLOR: '1' }, false), true);
  assert.equal(colorEnabled({ NO_COLOR: '' }, true), true);
});

test('plain mode: start/end lines and at most one progress line per interval', () => {
  let clock = 0;
  const out = capture();
  const r = createRenderer({ mode: 'plain', stream: out.stream, intervalMs: 10_000, now: () => clock });
  r.sink({ type: 'start', task: 'f', label: 'model.safetensors', unit: 'bytes', total: 1_048_576 });
  for (let i = 1; i <= 100; i++) {
    clock = i * 200; // 20 s in all, events every 200 ms
    r.sink({ type: 'advance', task: 'f', done: i * 10_485.76 });
  }
  r.sink({ type: 'end', task: 'f', ok: true });
  r.sink({ type: 'message', level: 'warn', text: 'skipped pytorch_model.bin' });
  const lines = out.text().trimEnd().split('\n');
  assert.equal(lines[0], 'model.safetensors: started (1.0 MiB)');
  const progressLines = lines.filter((l) => l.includes('%'));
  assert.equal(progressLines.length, 2, lines.join('\n'));
  assert.match(progressLines[0]!, /^model\.safetensors {2}50% {2}512\.0 KiB\/1\.0 MiB {2}51\.2 KiB\/s {2}ETA 10s$/);
  assert.equal(lines.at(-2), 'model.safetensors: done in 20s');
  assert.equal(lines.at(-1), 'warning: skipped pytorch_model.bin');
  assert.ok(!out.text().includes('\r') && !out.text().includes('\u001b'), 'no control characters in CI logs');
});

test('tty mode redraws a status block and colours only when asked', () => {
  let clock = 0;
  const out = capture(true);
  const r = createRenderer({ mode: 'tty', stream: out.stream, color: false, now: () => clock });
  r.sink({ type: 'start', task: 't', label: 'blk.0.attn_q.weight', unit: 'items', total: 4 });
  clock = 500;
  r.sink({ type: 'advance', task: 't', done: 2 });
  clock = 1000;
  r.sink({ type: 'end', task: 't', ok: true });
  r.close();
  const text = out.text();
  assert.match(text, /\[##########----------\] blk\.0\.attn_q\.weight {2}50% {2}2\/4/);
  assert.match(text, /✔ blk\.0\.attn_q\.weight 1s/);
  assert.ok(text.includes('\u001b[1F'), 'cursor moves up to redraw');
  assert.ok(!text.includes('\u001b[3'), 'no colour codes without color');

  const coloured = capture(true);
  const rc = createRenderer({ mode: 'tty', stream: coloured.stream, color: true, now: () => 0 });
  rc.sink({ type: 'start', task: 't', label: 'x', unit: 'bytes', total: 10 });
  rc.sink({ type: 'end', task: 't', ok: false });
  assert.ok(coloured.text().includes('\u001b[31m✖'));
});

test('ndjson mode: one JSON event per line', () => {
  const out = capture();
  const r = createRenderer({ mode: 'ndjson', stream: out.stream });
  r.sink({ type: 'start', task: 'a', label: 'A', unit: 'bytes', total: 3 });
  r.sink({ type: 'advance', task: 'a', done: 3 });
  r.sink({ type: 'end', task: 'a', ok: true });
  const events = out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.deepEqual(events.map((e) => e.type), ['start', 'advance', 'end']);
});

test('none mode prints nothing', () => {
  const out = capture();
  const r = createRenderer({ mode: 'none', stream: out.stream });
  r.sink({ type: 'message', level: 'info', text: 'hello' });
  assert.equal(out.text(), '');
});

test('amounts and durations read well', () => {
  assert.equal(formatAmount(999, 'bytes'), '999 B');
  assert.equal(formatAmount(1_610_612_736, 'bytes'), '1.5 GiB');
  assert.equal(formatAmount(7, 'items'), '7');
  assert.equal(formatDuration(59), '59s');
  assert.equal(formatDuration(61), '1m01s');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(Number.NaN), '?');
});

test('issue 17 §12: FORCE_COLOR=0 and TERM=dumb turn colour off, even on a TTY', () => {
  assert.equal(colorEnabled({ FORCE_COLOR: '0' }, true), false);
  assert.equal(colorEnabled({ FORCE_COLOR: 'false' }, true), false);
  assert.equal(colorEnabled({ TERM: 'dumb' }, true), false);
  assert.equal(colorEnabled({ TERM: 'dumb', FORCE_COLOR: '1' }, false), true, 'forcing wins over the terminal');
  assert.equal(colorEnabled({ NO_COLOR: '1', FORCE_COLOR: '1' }, true), false, 'NO_COLOR wins over everything');
  assert.equal(colorEnabled({ TERM: 'xterm-256color' }, true), true);
});

test('issue 17 §12: TERM=dumb and HF_HUB_DISABLE_PROGRESS_BARS=1 get plain lines, not redraws; an explicit mode wins', () => {
  assert.equal(chooseProgressMode({ json: false, isTTY: true, env: { TERM: 'dumb' } }), 'plain');
  assert.equal(chooseProgressMode({ json: false, isTTY: true, env: { HF_HUB_DISABLE_PROGRESS_BARS: '1' } }), 'plain');
  assert.equal(chooseProgressMode({ json: false, isTTY: true, env: { HF_HUB_DISABLE_PROGRESS_BARS: 'true' } }), 'plain');
  assert.equal(chooseProgressMode({ json: false, isTTY: true, env: { HF_HUB_DISABLE_PROGRESS_BARS: '0' } }), 'tty');
  assert.equal(chooseProgressMode({ json: false, isTTY: true, env: { TERM: 'xterm' } }), 'tty');
  assert.equal(chooseProgressMode({ requested: 'tty', json: false, isTTY: true, env: { TERM: 'dumb' } }), 'tty');
});
