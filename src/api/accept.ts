/**
 * The Accept header, negotiated as WebOb (and so placement) negotiates it:
 * which of a list of offered media types a client accepts, best first.
 */

interface MediaRange {
  type: string;
  subtype: string;
  /** Media-type parameters other than q, lowercased names. */
  params: string[];
  q: number;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const PARAM = `${TOKEN}\\s*=\\s*(?:${TOKEN}|"(?:[^"\\\\]|\\\\.)*")`;
const RANGE = new RegExp(`^(${TOKEN})/(${TOKEN})((?:\\s*;\\s*${PARAM})*)$`);
const PARAM_G = new RegExp(`;\\s*(${TOKEN})\\s*=\\s*(${TOKEN}|"(?:[^"\\\\]|\\\\.)*")`, 'g');

/** Parsed Accept: `null` when absent or invalid (WebOb then accepts anything). */
function parseAccept(header: string | undefined): MediaRange[] | null {
  if (header === undefined) return null;
  const ranges: MediaRange[] = [];
  for (const element of header.split(',')) {
    const text = element.trim();
    if (text === '') continue;
    const m = RANGE.exec(text);
    if (!m) return null;
    let q = 1;
    const params: string[] = [];
    for (const p of (m[3] ?? '').matchAll(PARAM_G)) {
      const name = p[1]!.toLowerCase();
      const value = p[2]!;
      if (name === 'q') {
        if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value)) return null;
        q = Number(value);
        // Everything after q is an accept-extension, not a media-type parameter.
        break;
      }
      params.push(`${name}=${value.toLowerCase()}`);
    }
    ranges.push({ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), params, q });
  }
  return ranges.length === 0 ? null : ranges;
}

/** The q a range list gives one offer: from its most specific matching range, 0 if none. */
function qualityOf(ranges: MediaRange[], offer: string): number {
  const [type = '', subtype = ''] = offer.toLowerCase().split('/');
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    let specificity: number;
    if (r.type === '*' && r.subtype === '*') specificity = 0;
    else if (r.type === type && r.subtype === '*') specificity = 1;
    else if (r.type === type && r.subtype === subtype) specificity = r.params.length > 0 ? 3 : 2;
    else continue;
    // A range with parameters only matches an offer with the same ones; ours have none.
    if (r.params.length > 0) continue;
    if (specificity > best) {
      best = specificity;
      q = r.q;
    }
  }
  return q;
}

/**
 * The offers the client accepts, best first (ties keep the offer order).
 * Absent or invalid Accept accepts every offer.
 */
export function acceptableOffers(header: string | undefined, offers: readonly string[]): string[] {
  const ranges = parseAccept(header);
  if (ranges === null) return [...offers];
  return offers
    .map((offer, index) => ({ offer, index, q: qualityOf(ranges, offer) }))
    .filter((o) => o.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map((o) => o.offer);
}

/** True when an Accept header is present and valid (WebOb's `bool(req.accept)`). */
export function hasValidAccept(header: string | undefined): boolean {
  return parseAccept(header) !== null;
}
