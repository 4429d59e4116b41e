/**
 * A workload step that found placement not doing what nova needs. It keeps
 * the exchange that showed it, so the report can print the request and the
 * response in full.
 */
import type { Exchange } from './client.js';

export class StepFailure extends Error {
  constructor(
    message: string,
    readonly exchange?: Exchange,
    readonly details?: { expected?: unknown; actual?: unknown },
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}

/** The request line as the report shows it: `PUT /allocations/… @1.36`. */
export function exchangeLabel(e: Exchange): string {
  return `${e.method} ${e.path}${e.version ? ` @${e.version}` : ''}`;
}

/** Fails the step unless the answer has one of the expected statuses. */
export function expectStatus(e: Exchange, ...statuses: number[]): Exchange {
  if (!statuses.includes(e.status)) {
    throw new StepFailure(
      `${exchangeLabel(e)} answered ${e.status}, expected ${statuses.join(' or ')}`,
      e,
    );
  }
  return e;
}
