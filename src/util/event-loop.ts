/**
 * Resolves on the event loop's next turn, after pending I/O, timers and
 * signals. SQLite (better-sqlite3) answers synchronously, so a loop of
 * queries would otherwise run as one task: no Ctrl-C, no progress redraw.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
