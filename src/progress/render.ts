/**
 * Renderers turn progress events into output for people or machines. All write to a stream the caller gives
 * (the CLI uses stderr, so stdout stays clean for results and --json):
 * - tty: one redrawn status line per running task (bytes, rate, ETA), ANSI colour unless NO_COLOR, FORCE_COLOR=0
 *   or TERM=dumb (a dumb terminal and HF_HUB_DISABLE_PROGRESS_BARS=1 get plain lines instead);
 * - plain: for CI logs, a line when a task starts and ends, and at most one progress line per task every
 *   `intervalMs` (default 10 s) — readable logs, no carriage returns;
 * - ndjson: every event as one JSON line (for tools that watch a run);
 * - none: nothing (the default with --json).
 */
import { formatBytes } from '../util/bytes.ts';
import type { ProgressEvent, ProgressSink, ProgressUnit } from './events.ts';

export type ProgressMode = 'tty' | 'plain' | 'ndjson' | 'none';

export interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface RendererOptions {
  mode: ProgressMode;
  stream: Writable;
  /** Minimum time between two progress lines of a task in plain mode. */
  intervalMs?: number;
  color?: boolean;
  now?: () => number;
}

export interface Renderer {
  sink: ProgressSink;
  /** Finish the output (clear a TTY status line). */
  close(): void;
}

type Env = Record<string, string | undefined>;

/** A terminal that cannot move the cursor or show colour (Emacs shell, some CI runners). */
function dumbTerminal(env: Env): boolean {
  return env.TERM === 'dumb';
}

/** HF_HUB_DISABLE_PROGRESS_BARS=1 (huggingface_hub's switch; any true-ish value, as its constants.py reads it). */
function progressBarsDisabled(env: Env): boolean {
  return ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_DISABLE_PROGRESS_BARS ?? '').trim().toLowerCase());
}

/**
 * auto: a TTY gets redrawn bars, anything else plain lines; --json silences unless ndjson was asked for. A dumb
 * terminal or HF_HUB_DISABLE_PROGRESS_BARS gets plain lines too (warnings still print). An explicit mode wins.
 */
export function chooseProgressMode(options: { requested?: string; json: boolean; isTTY: boolean; env?: Env }): ProgressMode {
  const requested = options.requested ?? 'auto';
  if (requested === 'ndjson' || requested === 'none' || requested === 'plain' || requested === 'tty') return requested;
  if (options.json) return 'none';
  const env = options.env ?? process.env;
  return options.isTTY && !dumbTerminal(env) && !progressBarsDisabled(env) ? 'tty' : 'plain';
}

/**
 * NO_COLOR (https://no-color.org): any non-empty value disables colour. FORCE_COLOR=0 (or false) disables it, any
 * other value forces it (the convention of Node's own tty and supports-color). TERM=dumb: no colour.
 */
export function colorEnabled(env: Env, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force === '0' || force?.toLowerCase() === 'false') return false;
  if (force !== undefined && force !== '') return true;
  if (dumbTerminal(env)) return false;
  return isTTY;
}

interface TaskState {
  label: string;
  unit: ProgressUnit;
  total?: number;
  done: number;
  startedAt: number;
  lastLineAt: number;
}

export function formatAmount(value: number, unit: ProgressUnit): string {
  if (unit === 'items') return String(value);
  return formatBytes(Math.round(value));
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

function describe(task: TaskState, now: number): string {
  const elapsed = Math.max((now - task.startedAt) / 1000, 1e-3);
  const rate = task.done / elapsed;
  const parts = [task.label];
  if (task.total !== undefined && task.total > 0) {
    const pct = Math.min(100, (task.done / task.total) * 100);
    parts.push(`${pct.toFixed(0)}%`, `${formatAmount(task.done, task.unit)}/${formatAmount(task.total, task.unit)}`);
    if (task.unit === 'bytes') parts.push(`${formatAmount(rate, 'bytes')}/s`);
    if (rate > 0 && task.done < task.total) parts.push(`ETA ${formatDuration((task.total - task.done) / rate)}`);
  } else {
    parts.push(formatAmount(task.done, task.unit));
    if (task.unit === 'bytes') parts.push(`${formatAmount(rate, 'bytes')}/s`);
  }
  return parts.join('  ');
}

export function createRenderer(options: RendererOptions): Renderer {
  const { mode, stream } = options;
  const now = options.now ?? Date.now;
  if (mode === 'none') return { sink: () => {}, close: () => {} };
  if (mode === 'ndjson') {
    return { sink: (event) => void stream.write(`${JSON.stringify(event)}\n`), close: () => {} };
  }

  const tasks = new Map<string, TaskState>();
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);

  if (mode === 'plain') {
    const interval = options.intervalMs ?? 10_000;
    const sink: ProgressSink = (event: ProgressEvent) => {
      const t = now();
      switch (event.type) {
        case 'start':
          tasks.set(event.task, { label: event.label, unit: event.unit, total: event.total, done: 0, startedAt: t, lastLineAt: t });
          stream.write(`${event.label}: started${event.total !== undefined ? ` (${formatAmount(event.total, event.unit)})` : ''}\n`);
          break;
        case 'advance': {
          const task = tasks.get(event.task);
          if (!task) break;
          task.done = event.done;
          if (event.total !== undefined) task.total = event.total;
          if (t - task.lastLineAt >= interval) {
            task.lastLineAt = t;
            stream.write(`${describe(task, t)}\n`);
          }
          break;
        }
        case 'end': {
          const task = tasks.get(event.task);
          const label = task?.label ?? event.task;
          const took = task ? ` in ${formatDuration((t - task.startedAt) / 1000)}` : '';
          stream.write(`${label}: ${event.ok ? 'done' : 'failed'}${took}${event.note ? ` (${event.note})` : ''}\n`);
          tasks.delete(event.task);
          break;
        }
        case 'message':
          stream.write(`${event.level === 'warn' ? 'warning: ' : ''}${event.text}\n`);
          break;
      }
    };
    return { sink, close: () => {} };
  }

  // tty: a block of status lines, one per running task, redrawn at most every 100 ms.
  let drawnLines = 0;
  let lastDraw = 0;
  const clear = () => {
    if (drawnLines > 0) stream.write(`\u001b[${drawnLines}F\u001b[J`);
    drawnLines = 0;
  };
  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    clear();
    const width = Math.max(20, (stream.columns ?? 100) - 1);
    const lines = [...tasks.values()].slice(-8).map((task) => {
      const bar = task.total ? progressBar(task.done / task.total, 20) : '';
      return `${paint('36', bar)} ${describe(task, t)}`.slice(0, width + (options.color ? 9 : 0));
    });
    for (const line of lines) stream.write(`${line}\n`);
    drawnLines = lines.length;
  };
  const sink: ProgressSink = (event) => {
    const t = now();
    switch (event.type) {
      case 'start':
        tasks.set(event.task, { label: event.label, unit: event.unit, total: event.total, done: 0, startedAt: t, lastLineAt: t });
        draw(true);
        break;
      case 'advance': {
        const task = tasks.get(event.task);
        if (!task) break;
        task.done = event.done;
        if (event.total !== undefined) task.total = event.total;
        draw(false);
        break;
      }
      case 'end': {
        const task = tasks.get(event.task);
        tasks.delete(event.task);
        clear();
        const mark = event.ok ? paint('32', '✔') : paint('31', '✖');
        const took = task ? ` ${formatDuration((t - task.startedAt) / 1000)}` : '';
        stream.write(`${mark} ${task?.label ?? event.task}${took}${event.note ? ` (${event.note})` : ''}\n`);
        draw(true);
        break;
      }
      case 'message':
        clear();
        stream.write(`${event.level === 'warn' ? paint('33', 'warning: ') : ''}${event.text}\n`);
        draw(true);
        break;
    }
  };
  return { sink, close: clear };
}

function progressBar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}
