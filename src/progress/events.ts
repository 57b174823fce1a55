/**
 * Progress is data. Library operations accept an `onProgress` sink and emit these events; the CLI chooses how to
 * show them (TTY bars, plain lines for CI logs, NDJSON, or nothing). A task is one unit the user recognises:
 * a file being downloaded, a tensor being quantized, the whole run.
 */
export type ProgressUnit = 'bytes' | 'items';

export type ProgressEvent =
  /** A task begins. `parent` groups per-file tasks under a total. */
  | { type: 'start'; task: string; label: string; unit: ProgressUnit; total?: number; parent?: string }
  /** Absolute amount done so far (not a delta), so a dropped event never skews the total. */
  | { type: 'advance'; task: string; done: number; total?: number }
  | { type: 'end'; task: string; ok: boolean; note?: string }
  /** A line worth telling the user (skipped files, retries, fallbacks). */
  | { type: 'message'; level: 'info' | 'warn'; text: string };

export type ProgressSink = (event: ProgressEvent) => void;

export const noProgress: ProgressSink = () => {};
