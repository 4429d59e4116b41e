import { Listr } from 'listr2';
import type { ProgressEvent, ProgressListener } from '../progress/events.js';
import { fmt } from './table.js';
import { count } from '../text/count.js';

interface TableLine {
  phase: string;
  done: number;
  total: number;
  started: number;
  ms?: number;
  resumedAfter?: string;
}

/** The plan as the live display shows it: each table's counts and action, then the conditions. */
function planLines(event: Extract<ProgressEvent, { type: 'plan' }>): string[] {
  const out = event.tables.map(
    (t) =>
      `plan   ${t.table.padEnd(28)} ${fmt(t.sourceRows).padStart(11)} source, ${fmt(t.targetRows).padStart(9)} target: ${t.action}`,
  );
  for (const c of event.conditions) out.push(`[${c.severity}] ${c.message}`);
  return [...out, ''];
}

/** How often the terminal's live table is drawn again. */
const FRAME_MS = 200;

/**
 * Shows migrate's progress: on a terminal, a listr2 task whose output is a
 * live line per table (rows and rows/s), drawn on a timer (an event only
 * updates a counter: a run in batches of 5 sends thousands a second);
 * otherwise one plain line per step and per finished table, for logs and
 * playbooks.
 */
export class MigrateProgress {
  /** Phase → table → its line. */
  private readonly lines = new Map<string, Map<string, TableLine>>();
  private step = '';
  /** The plan's lines, drawn above the live table once the core has planned. */
  private planLines: string[] = [];

  constructor(
    private readonly mode: 'tty' | 'plain' | 'silent',
    private readonly write: (line: string) => void,
  ) {}

  readonly listener: ProgressListener = (event: ProgressEvent) => {
    if (this.mode === 'silent') return;
    if (this.mode === 'plain') return this.plain(event);
    switch (event.type) {
      case 'step':
        this.step = event.message;
        break;
      case 'plan':
        this.planLines = planLines(event);
        break;
      case 'table-start': {
        let phase = this.lines.get(event.phase);
        if (!phase) this.lines.set(event.phase, (phase = new Map()));
        phase.set(event.table, {
          phase: event.phase,
          done: 0,
          total: event.total,
          started: performance.now(),
          resumedAfter: event.resumedAfter,
        });
        break;
      }
      case 'table-progress': {
        const l = this.lines.get(event.phase)?.get(event.table);
        if (l) l.done = event.done;
        break;
      }
      case 'table-done': {
        const l = this.lines.get(event.phase)?.get(event.table);
        if (l) {
          l.done = Math.max(l.done, event.rows);
          l.ms = event.ms;
        }
        break;
      }
      default:
        break;
    }
  };

  private plain(event: ProgressEvent): void {
    switch (event.type) {
      case 'step':
        this.write(event.message);
        break;
      case 'table-start':
        if (event.phase === 'copy') {
          this.write(
            `copy ${event.table}: ${count(event.total, 'row')}${event.resumedAfter ? `, resuming after ${event.resumedAfter}` : ''}`,
          );
        }
        break;
      case 'table-done':
        if (event.phase === 'copy') {
          const rate = event.ms > 0 ? Math.round((event.rows * 1000) / event.ms) : event.rows;
          this.write(
            `copied ${event.table}: ${count(event.rows, 'row')} in ${(event.ms / 1000).toFixed(1)} s (${fmt(rate)} rows/s)`,
          );
        }
        break;
      case 'revision-done':
        this.write(`schema: applied ${event.revision}`);
        break;
      case 'warning':
        this.write(`warning: ${event.message}`);
        break;
      default:
        break;
    }
  }

  private render(): string {
    const width = Math.max(40, (process.stderr.columns ?? 100) - 6);
    const out = [...this.planLines, this.step];
    const rows = [...this.lines.values()].flatMap((phase) => [...phase]);
    rows.sort(([, a], [, b]) => a.started - b.started);
    for (const [table, l] of rows) {
      const seconds = (l.ms ?? performance.now() - l.started) / 1000 || 0.001;
      const rate = Math.round(l.done / seconds);
      const status =
        l.ms !== undefined
          ? 'done'
          : `${l.total > 0 ? Math.floor((100 * l.done) / l.total) : 100}%`;
      out.push(
        `${l.phase.padEnd(6)} ${String(table).padEnd(28)} ${fmt(l.done).padStart(11)} / ${fmt(l.total).padEnd(11)} ${fmt(rate).padStart(9)} rows/s  ${status}`,
      );
    }
    return out.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
  }

  /** Runs `work` under the live display (or plainly). */
  async run<T>(title: string, work: () => Promise<T>): Promise<T> {
    if (this.mode !== 'tty') return work();
    let value: T | undefined;
    const list = new Listr(
      [
        {
          title,
          task: async (_ctx, task) => {
            // The live table is the task's title: listr2 keeps no history of
            // titles (its output bar would keep every frame and re-wrap them all).
            const frame = setInterval(() => {
              task.title = `${title}\n${this.render()}`;
            }, FRAME_MS);
            try {
              value = await work();
            } finally {
              clearInterval(frame);
            }
            task.title = `${title}\n${this.render()}`;
          },
        },
      ],
      {
        renderer: 'default',
        exitOnError: true,
        // lazy: drawn when the title changes (every FRAME_MS), not on the spinner's own timer.
        rendererOptions: { collapseErrors: false, lazy: true },
        // BaseCommand handles Ctrl-C for every command (exit 130 with the resume hint);
        // listr2's own handler would race it and exit 127.
        registerSignalListeners: false,
      },
    );
    await list.run();
    return value as T;
  }
}
