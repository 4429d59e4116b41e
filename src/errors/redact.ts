/**
 * Secrets registered here are scrubbed from every line the CLI writes, so
 * that a password can never leak through a driver's error text, a stack
 * trace or a JSON document, whatever code path produced it.
 */
const secrets = new Set<string>();

/** Registers a secret (and its percent-encoded forms) for scrubbing. */
export function registerSecret(secret: string | undefined | null): void {
  if (!secret) return;
  secrets.add(secret);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) secrets.add(encoded);
  // SQLAlchemy-style URLs leave some characters unescaped that encodeURIComponent escapes.
  const loose = encodeURI(secret);
  if (loose !== secret) secrets.add(loose);
}

/** Forgets every registered secret (tests only). */
export function clearSecrets(): void {
  secrets.clear();
}

const MASK = '***';

// user:password@ in any URL-like text, even for a secret never registered.
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/\s]+)(@)/gi;
// password=... in libpq-style or key=value strings.
const KEY_VALUE_PASSWORD = /(\bpassword\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s,;]+)/gi;

/** Returns text with every known secret and URL credential masked. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret containing another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length === 0) continue;
    out = out.split(s).join(MASK);
  }
  out = out.replace(URL_CREDENTIALS, `$1${MASK}$3`);
  out = out.replace(KEY_VALUE_PASSWORD, `$1${MASK}`);
  return out;
}

/** Deeply redacts every string inside a JSON-able value. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}
