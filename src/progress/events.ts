/**
 * Progress as data: the core emits these, the CLI decides how to show them
 * (listr2 on a terminal, plain lines otherwise, nothing under --json).
 */
export type ProgressEvent =
  | { type: 'step'; step: string; message: string }
  | { type: 'revision-start'; revision: string; description: string }
  | { type: 'revision-done'; revision: string; description: string; ms: number }
  | { type: 'warning'; message: string }
  /** What a run that goes on to write will do, per table, and what it found in the source (before the copy). */
  | {
      type: 'plan';
      tables: { table: string; sourceRows: number; targetRows: number; action: string }[];
      conditions: { severity: string; message: string }[];
    }
  | {
      type: 'table-start';
      phase: 'copy' | 'verify';
      table: string;
      total: number;
      resumedAfter?: string;
    }
  | { type: 'table-progress'; phase: 'copy' | 'verify'; table: string; done: number; total: number }
  | {
      type: 'table-done';
      phase: 'copy' | 'verify';
      table: string;
      rows: number;
      ms: number;
      ok: boolean;
    }
  /** One online data migration's share of one batch. */
  | { type: 'data-migration-batch'; migration: string; found: number; done: number }
  /** An online data migration threw; the run goes on with the next one. */
  | { type: 'data-migration-error'; migration: string; message: string }
  /** A workload step began, passed, failed or was skipped (verify --workload). */
  | {
      type: 'workload-step';
      step: string;
      title: string;
      state: 'start' | 'pass' | 'fail' | 'skip';
      ms?: number;
      summary?: string;
    };

export type ProgressListener = (event: ProgressEvent) => void;

/** A listener that ignores everything, for callers that do not care. */
export const ignoreProgress: ProgressListener = () => undefined;
