/**
 * A 128-bit hash of one row's canonical text, added into a running sum:
 * the table checksum is the sum of its rows' hashes, four 32-bit lanes each
 * added modulo 2^32. A sum does not care in which order rows come, nor how
 * a table was cut into key ranges or over how many runs it was copied, so
 * the same rows always give the same checksum, and slices' checksums add up
 * to the table's.
 *
 * The mixing follows the structure of MurmurHash3's 128-bit x86 variant
 * (four lanes of 32-bit multiply-rotate rounds, then a final avalanche),
 * over the text's UTF-16 code units, two to a 32-bit word. It is not a
 * cryptographic hash: it detects a copy that lost, added or changed rows,
 * which is what the verification is for, at the cost of a streamed SHA-256.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;
const SEED = 0x9747b28c;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/** The final avalanche of one lane. */
function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A word of the text: code units `i` and `i + 1` (0 past the end). */
function word(s: string, i: number, n: number): number {
  if (i >= n) return 0;
  return s.charCodeAt(i) | (i + 1 < n ? s.charCodeAt(i + 1) << 16 : 0);
}

/** Adds the hash of `s` into `sum` (four unsigned 32-bit lanes). */
export function addRowHash(s: string, sum: Uint32Array): void {
  let h1 = SEED;
  let h2 = SEED;
  let h3 = SEED;
  let h4 = SEED;
  const n = s.length;
  let i = 0;
  // Whole blocks of eight code units (four words) need no bounds checks.
  for (; i + 8 <= n; i += 8) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    h1 = rotl(h1 ^ Math.imul(rotl(Math.imul(k, C1), 15), C2), 19) + h2;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
    k = s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16);
    h2 = rotl(h2 ^ Math.imul(rotl(Math.imul(k, C2), 16), C3), 17) + h3;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
    k = s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 16);
    h3 = rotl(h3 ^ Math.imul(rotl(Math.imul(k, C3), 17), C4), 15) + h4;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;
    k = s.charCodeAt(i + 6) | (s.charCodeAt(i + 7) << 16);
    h4 = rotl(h4 ^ Math.imul(rotl(Math.imul(k, C4), 18), C1), 13) + h1;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }
  // The last 0–7 code units, one partial block.
  h1 ^= Math.imul(rotl(Math.imul(word(s, i, n), C1), 15), C2);
  h2 ^= Math.imul(rotl(Math.imul(word(s, i + 2, n), C2), 16), C3);
  h3 ^= Math.imul(rotl(Math.imul(word(s, i + 4, n), C3), 17), C4);
  h4 ^= Math.imul(rotl(Math.imul(word(s, i + 6, n), C4), 18), C1);
  h1 ^= n;
  h2 ^= n;
  h3 ^= n;
  h4 ^= n;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = avalanche(h1);
  h2 = avalanche(h2);
  h3 = avalanche(h3);
  h4 = avalanche(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  // Uint32Array stores modulo 2^32.
  sum[0] = sum[0]! + (h1 >>> 0);
  sum[1] = sum[1]! + (h2 >>> 0);
  sum[2] = sum[2]! + (h3 >>> 0);
  sum[3] = sum[3]! + (h4 >>> 0);
}

/** A sum as 32 hex digits. */
export function sumText(sum: Uint32Array): string {
  let text = '';
  for (const lane of sum) text += lane.toString(16).padStart(8, '0');
  return text;
}

/** The lanes of a sum written by sumText. */
export function parseSum(text: string): Uint32Array {
  if (!/^[0-9a-f]{32}$/.test(text)) throw new Error(`not a row-hash sum: ${text}`);
  const sum = new Uint32Array(4);
  for (let lane = 0; lane < 4; lane++) sum[lane] = parseInt(text.slice(lane * 8, lane * 8 + 8), 16);
  return sum;
}
