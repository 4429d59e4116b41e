/**
 * Placement's microversions and the `OpenStack-API-Version` header, parsed
 * the way microversion-parse does it, so that odd headers get the same
 * answer (400, 406 or a version) as from placement itself.
 */
import { pyIntOrNull, pyRepr } from './py-format.js';

/** The newest microversion placement 8.0.0 (Zed) through current master serve. */
export const MAX_MINOR = 39;
export const SERVICE_TYPE = 'placement';
export const STANDARD_HEADER = 'openstack-api-version';

/** Parsed bounds: handlers ask `atLeast('1.29')` per item of long answers. */
const PARSED = new Map<string, Version>();

/** A microversion, ordered as a (major, minor) tuple. */
export class Version {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  static parse(text: `${number}.${number}`): Version {
    const known = PARSED.get(text);
    if (known) return known;
    const [a, b] = text.split('.');
    const v = new Version(Number(a), Number(b));
    if (PARSED.size < 256) PARSED.set(text, v);
    return v;
  }

  compare(other: Version): number {
    return this.major - other.major || this.minor - other.minor;
  }

  /** min <= this <= max; either bound may be omitted. */
  matches(min?: Version | string, max?: Version | string): boolean {
    const lo = typeof min === 'string' ? Version.parse(min as `${number}.${number}`) : min;
    const hi = typeof max === 'string' ? Version.parse(max as `${number}.${number}`) : max;
    return (
      (lo === undefined || this.compare(lo) >= 0) && (hi === undefined || this.compare(hi) <= 0)
    );
  }

  /** Shorthand for matches(min). */
  atLeast(min: string): boolean {
    return this.matches(min);
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export const MIN_VERSION = new Version(1, 0);
export const MAX_VERSION = new Version(1, MAX_MINOR);
/** Every version placement accepts, as strings, oldest first. */
export const VERSIONS: readonly string[] = Array.from(
  { length: MAX_MINOR + 1 },
  (_, i) => `1.${i}`,
);

/** Why a header was refused: 400 (malformed) or 406 (well-formed, not served). */
export class MicroversionError extends Error {
  constructor(
    readonly status: 400 | 406,
    message: string,
  ) {
    super(message);
  }
}

/** Python's int(s), or a MicroversionError with Python's message. */
function pyInt(s: string): number {
  const n = pyIntOrNull(s);
  if (n === null) {
    throw new MicroversionError(400, `invalid literal for int() with base 10: ${pyRepr(s)}`);
  }
  return n;
}

/** microversion_parse.parse_version_string. */
function parseVersionString(text: string): Version {
  const dot = text.indexOf('.');
  const parts = dot === -1 ? [text] : [text.slice(0, dot), text.slice(dot + 1)];
  try {
    const numbers = parts.map(pyInt);
    if (numbers.length < 2) {
      throw new MicroversionError(
        400,
        "Version.__new__() missing 1 required positional argument: 'minor'",
      );
    }
    return new Version(numbers[0]!, numbers[1]!);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MicroversionError(400, `invalid version string: ${text}; ${reason}`);
  }
}

/** The value for our service in the (folded) standard header; the last one wins. */
function versionFromHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const raw of header.split(',').reverse()) {
    const parts = raw.trim().split(/\s+/);
    if (parts.length < 2 || parts[0] === '') continue;
    const service = parts[0]!;
    // split(None, 1): everything after the first whitespace run is the version.
    const version = raw.trim().slice(service.length).trim();
    if (service.toLowerCase() === SERVICE_TYPE) return version;
  }
  return undefined;
}

/**
 * The microversion a request asks for: no header means 1.0, `latest` the
 * newest. Throws MicroversionError with placement's message otherwise.
 */
export function negotiateVersion(header: string | undefined): Version {
  const found = versionFromHeader(header);
  let text = found || VERSIONS[0]!;
  if (text === 'latest') text = VERSIONS[VERSIONS.length - 1]!;
  const version = parseVersionString(text);
  if (!VERSIONS.includes(version.toString())) {
    throw new MicroversionError(406, `Unacceptable version header: ${text}`);
  }
  return version;
}
