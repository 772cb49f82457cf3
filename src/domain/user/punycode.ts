/**
 * RFC 3492 Punycode (§6.2 decoding, §6.3 encoding), for the A-labels of IDN domains (`xn--bcher-kva` <-> `bücher`).
 * The domain layer imports no node built-in or package (dependency-cruiser `domain-is-pure`), so it carries its
 * own; the tests check it against node's `url.domainToUnicode` / `domainToASCII`. The service stores the Unicode
 * form; the encoder only checks that an A-label is the one encoding of what it decodes to (RFC 5891 §5.4).
 */

const BASE = 36;
const TMIN = 1;
const TMAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 0x80;
const DELIMITER = '-';
/** RFC 3492 §6.4: the decoder refuses what would overflow a 32-bit signed integer (as punycode.js and ICU do). */
const MAX_INT = 0x7fffffff;
const MAX_CODE_POINT = 0x10ffff;

/**
 * The Unicode string that the Punycode `input` (an A-label without its `xn--` prefix) encodes, or null when it is
 * not a valid encoding: a non-basic code point before the last delimiter, a character that is no base-36 digit, a
 * truncated variable-length integer, an overflow, a decoded basic code point, a surrogate or a value past U+10FFFF.
 * Never throws. Quadratic in the length of `input` (insertions): callers bound it (an A-label has 63 octets at most).
 */
export function decodePunycode(input: string): string | null {
  const delimiter = input.lastIndexOf(DELIMITER);
  const output: number[] = [];
  for (let j = 0; j < Math.max(delimiter, 0); j += 1) {
    const code = input.charCodeAt(j);
    if (code >= 0x80) return null;
    output.push(code);
  }
  let n = INITIAL_N;
  let i = 0;
  let bias = INITIAL_BIAS;
  for (let at = delimiter > 0 ? delimiter + 1 : 0; at < input.length; ) {
    const oldI = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (at >= input.length) return null;
      const digit = digitValue(input.charCodeAt(at++));
      if (digit === null || digit > Math.floor((MAX_INT - i) / w)) return null;
      i += digit * w;
      const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
      if (digit < t) break;
      if (w > Math.floor(MAX_INT / (BASE - t))) return null;
      w *= BASE - t;
    }
    const length = output.length + 1;
    bias = adapt(i - oldI, length, oldI === 0);
    if (Math.floor(i / length) > MAX_INT - n) return null;
    n += Math.floor(i / length);
    i %= length;
    if (n < INITIAL_N || n > MAX_CODE_POINT || (n >= 0xd800 && n <= 0xdfff)) return null;
    output.splice(i, 0, n);
    i += 1;
  }
  return output.map((code) => String.fromCodePoint(code)).join('');
}

/** RFC 3492 §5: `0-9` are 26-35, letters 0-25 in either case; anything else is no digit. */
function digitValue(code: number): number | null {
  if (code >= 0x30 && code <= 0x39) return code - 22;
  if (code >= 0x41 && code <= 0x5a) return code - 0x41;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61;
  return null;
}

/** RFC 3492 §6.1, bias adaptation. */
function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  let d = firstTime ? Math.floor(delta / DAMP) : Math.floor(delta / 2);
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((BASE - TMIN) * TMAX) >> 1) {
    d = Math.floor(d / (BASE - TMIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - TMIN + 1) * d) / (d + SKEW));
}

/**
 * The Punycode encoding of `input` (RFC 3492 §6.3), lower case, or null when `input` holds a lone surrogate or its
 * deltas overflow. Basic code points are copied as they are (case included).
 */
export function encodePunycode(input: string): string | null {
  const codes: number[] = [];
  for (const char of input) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) return null;
    codes.push(code);
  }
  const basic = codes.filter((code) => code < INITIAL_N);
  let output = basic.map((code) => String.fromCharCode(code)).join('');
  if (basic.length > 0) output += DELIMITER;
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  for (let handled = basic.length; handled < codes.length; ) {
    const m = codes.reduce((min, code) => (code >= n && code < min ? code : min), Number.POSITIVE_INFINITY);
    if (m - n > Math.floor((MAX_INT - delta) / (handled + 1))) return null;
    delta += (m - n) * (handled + 1);
    n = m;
    for (const code of codes) {
      if (code < n && ++delta > MAX_INT) return null;
      if (code !== n) continue;
      let q = delta;
      for (let k = BASE; ; k += BASE) {
        const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
        if (q < t) break;
        output += digitChar(t + ((q - t) % (BASE - t)));
        q = Math.floor((q - t) / (BASE - t));
      }
      output += digitChar(q);
      bias = adapt(delta, handled + 1, handled === basic.length);
      delta = 0;
      handled += 1;
    }
    delta += 1;
    n += 1;
  }
  return output;
}

/** RFC 3492 §5: 0-25 are `a-z`, 26-35 are `0-9`. */
function digitChar(digit: number): string {
  return String.fromCharCode(digit < 26 ? 0x61 + digit : 0x30 + digit - 26);
}
