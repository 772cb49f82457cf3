import { domainToASCII, domainToUnicode } from 'node:url';
import { decodePunycode, encodePunycode } from '@domain/user/punycode';

/** Real IDN labels (TLDs, cities, registered names, the IANA test labels), each script several times; no emoji. */
const LABELS = {
  German: ['bücher', 'münchen', 'köln', 'düsseldorf', 'straße', 'größe', 'müller', 'bäckerei', 'übung', 'zürich', 'öl'],
  Chinese: ['中国', '中國', '公司', '网络', '北京', '例子', '测试', '香港', '台湾', '在线', '商城'],
  Cyrillic: ['рф', 'пример', 'москва', 'испытание', 'онлайн', 'сайт', 'бел', 'укр', 'срб', 'мкд', 'қаз'],
  Arabic: ['مصر', 'السعودية', 'مثال', 'إختبار', 'امارات', 'قطر', 'المغرب', 'عمان', 'تونس', 'شبكة', 'موقع'],
  others: ['παράδειγμα', 'δοκιμή', 'ελ', 'भारत', 'उदाहरण', '한국', '日本', '例え', 'テスト', 'ישראל', 'ไทย', 'españa', 'français', 'ñandú', 'façade'],
};

/** The A-label node gives a U-label, without its `xn--`. */
function aLabel(uLabel: string): string {
  const ascii = domainToASCII(uLabel);
  expect(ascii.startsWith('xn--')).toBe(true);
  return ascii.slice(4);
}

/** A deterministic generator (a fixed LCG), so that a failure names a reproducible sample. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

describe('decodePunycode (RFC 3492 §6.2) agrees with node', () => {
  it.each(Object.entries(LABELS).flatMap(([script, labels]) => labels.map((label) => [script, label])))('%s %p', (_script, label) => {
    const encoded = aLabel(label);
    expect(decodePunycode(encoded)).toBe(label);
    expect(decodePunycode(encoded)).toBe(domainToUnicode(`xn--${encoded}`));
    expect(encodePunycode(label)).toBe(encoded);
  });

  it('reads the digits in either case (the A-label may be typed in capitals)', () => {
    expect(decodePunycode('bcher-KVA')).toBe('bücher');
    expect(decodePunycode('BCHER-KVA')).toBe('BüCHER'); // basic code points keep their case
    expect(decodePunycode('FIQS8S')).toBe('中国');
    expect(decodePunycode('P1AI')).toBe('рф');
  });

  it('RFC 3492 §7.1 sample strings', () => {
    // (A) Arabic (Egyptian), (B) Chinese (simplified), (E) Hebrew, (L) Japanese with ASCII, (S) all ASCII but the delimiter
    expect(decodePunycode('egbpdaj6bu4bxfgehfvwxn')).toBe('ليهمابتكلموشعربي؟');
    expect(decodePunycode('ihqwcrb4cv8a8dqg056pqjye')).toBe('他们为什么不说中文');
    expect(decodePunycode('4dbcagdahymbxekheh6e0a7fei0b')).toBe('למההםפשוטלאמדבריםעברית');
    expect(decodePunycode('3B-ww4c5e180e575a65lsy2b')).toBe('3年B組金八先生');
    expect(decodePunycode('-> $1.00 <--')).toBe('-> $1.00 <-');
  });

  it('decodes and re-encodes 3,000 random labels of several scripts as node does', () => {
    const random = lcg(30);
    const ranges: [number, number][] = [
      [0xe0, 0xff], // Latin-1 letters
      [0x430, 0x44f], // Cyrillic
      [0x3b1, 0x3c9], // Greek
      [0x4e00, 0x9fa5], // CJK
      [0x627, 0x64a], // Arabic
      [0xac00, 0xd7a3], // Hangul
    ];
    let compared = 0;
    for (let sample = 0; sample < 3000; sample += 1) {
      const [low, high] = ranges[Math.floor(random() * ranges.length)]!;
      let label = random() < 0.3 ? 'ab' : '';
      for (let length = 1 + Math.floor(random() * 8); length > 0; length -= 1) label += String.fromCodePoint(low + Math.floor(random() * (high - low + 1)));
      const ascii = domainToASCII(label);
      if (!ascii.startsWith('xn--')) continue; // not a label UTS #46 accepts (e.g. a mapped character)
      const encoded = ascii.slice(4);
      expect([sample, decodePunycode(encoded)]).toEqual([sample, domainToUnicode(ascii)]);
      expect([sample, encodePunycode(domainToUnicode(ascii))]).toEqual([sample, encoded]);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(2500);
  });
});

describe('decodePunycode refuses malformed input without throwing', () => {
  it.each([
    ['a non-basic code point before the delimiter', 'bücher-kva'],
    ['a character that is no base-36 digit', 'bcher-kv!'],
    ['a non-ASCII digit', 'bcher-kvä'],
    ['a space', 'bcher kva'],
    ['the delimiter alone', '-'],
    ['a delimiter with no basic code point before it (node is lenient here)', '-0yn'],
    ['a truncated number (the last digit is not below its threshold)', 'bcher-z'],
    ['a truncated number', 'zz'],
    ['an overflowing number', '99999999999'],
    ['an overflowing number', 'zzzzzzzzzzzzzzzzzzzzzzzz'],
  ])('%s: %p', (_why, input) => {
    expect(decodePunycode(input)).toBeNull();
  });

  it('a code point past U+10FFFF or a surrogate, encoded without checks, is refused', () => {
    expect(decodePunycode(encodeUnchecked(0x110000))).toBeNull();
    expect(decodePunycode(encodeUnchecked(0xd800))).toBeNull();
    expect(decodePunycode(encodeUnchecked(0xdfff))).toBeNull();
    expect(decodePunycode(encodeUnchecked(0x10ffff))).toBe(String.fromCodePoint(0x10ffff));
  });

  it('the empty input decodes to the empty string and `a` to U+0080 (valid Punycode; Email refuses both)', () => {
    expect(decodePunycode('')).toBe('');
    expect(decodePunycode('a')).toBe('\u0080');
  });

  it('never throws on 20,000 random ASCII strings, and decodes like node wherever node decodes a RFC 3492 encoding', () => {
    const random = lcg(3492);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-ABZ!';
    let compared = 0;
    for (let sample = 0; sample < 20_000; sample += 1) {
      let input = '';
      for (let length = Math.floor(random() * 16); length > 0; length -= 1) input += alphabet[Math.floor(random() * alphabet.length)];
      const decoded = decodePunycode(input);
      const node = domainToUnicode(`xn--${input}`);
      // node (ada/ICU) also takes a leading delimiter with no basic code point before it, which RFC 3492 does not.
      if (node === '' || input.startsWith('-') || !/^[a-z0-9-]*$/.test(input)) continue;
      expect([input, decoded]).toEqual([input, node]);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(1000);
    expect(decodePunycode('a'.repeat(10_000))).toEqual(expect.any(String));
  });
});

/** RFC 3492's encoding of one code point with no basic code points, checking nothing (to craft invalid input). */
function encodeUnchecked(codePoint: number): string {
  let q = codePoint - 0x80;
  let out = '';
  for (let k = 36; ; k += 36) {
    const t = k <= 72 ? 1 : k >= 72 + 26 ? 26 : k - 72;
    if (q < t) break;
    const digit = t + ((q - t) % (36 - t));
    out += String.fromCharCode(digit < 26 ? 0x61 + digit : 0x16 + digit);
    q = Math.floor((q - t) / (36 - t));
  }
  return out + String.fromCharCode(q < 26 ? 0x61 + q : 0x16 + q);
}
