/**
 * One comparison in `npm run bench`: placement-upgrade (the subject) against
 * what operators would otherwise use (the reference), on the same data and
 * machine, in one run.
 */
export interface Measurement {
  /** Wall-clock milliseconds of the measured operation only (not setup). */
  ms: number;
  /** Peak resident set size in bytes of the measured process(es), when known. */
  peakRssBytes?: number;
  /** Free-form facts worth printing (rows copied, requests served …). */
  extra?: Record<string, number | string>;
}

export interface BenchContext {
  /** --quick: sizes small enough for CI to smoke-test the harness. */
  quick: boolean;
  /** Repetitions per side (median and spread are reported). */
  repetitions: number;
  /** Scale parameters chosen on the command line (e.g. allocations). */
  sizes: Record<string, number>;
  /** A scratch directory for this case. */
  workDir: string;
  log(message: string): void;
}

export interface BenchCase {
  /** e.g. "migrate MariaDB→MariaDB, 100k allocations". */
  name: string;
  subject: string;
  reference: string;
  /**
   * The `ctx.sizes` keys this case reads. A key given several values on the
   * command line (`--sizes allocations=100k/1M`) runs the case once per value;
   * a case that lists no keys runs once, with the first value of each.
   */
  sizeKeys?: readonly string[];
  /** Whether the reference tool exists here (e.g. pgloader installed); false skips the case with a reason. */
  available(ctx: BenchContext): Promise<true | string>;
  /** Builds the data once. */
  setup(ctx: BenchContext): Promise<void>;
  /** One measured run of each side; each must reset whatever the previous run wrote. */
  runSubject(ctx: BenchContext): Promise<Measurement>;
  runReference(ctx: BenchContext): Promise<Measurement>;
  teardown(ctx: BenchContext): Promise<void>;
}
