import { DomainError } from '@domain/shared/domain-error';
import { personName } from '@domain/user/person-name';

describe('personName', () => {
  it('trims; blank is no name; not given stays not given', () => {
    expect(personName('  Ada ', 'first_name')).toBe('Ada');
    expect(personName(' \t ', 'first_name')).toBeNull();
    expect(personName(null, 'last_name')).toBeNull();
    expect(personName(undefined, 'last_name')).toBeUndefined();
  });

  it('keeps letters of any script, marks, apostrophes, hyphens, spaces and the joiners (ZWJ, ZWNJ)', () => {
    // ... and the variation selectors: emoji presentation, the ideographic variation sequences of Japanese names, the
    // Mongolian free variation selectors and vowel separator; and the combining grapheme joiner.
    for (const name of ["O'Brien-Smith", 'Zoë', 'José María', '李小龙', 'محمد', 'क्\u200Dष', 'می\u200Cخواهم', 'Łukasz', 'Ann \u2764\uFE0F', '葛\u{E0100}飾', '\u1824\u180B\u1837\u1833', '\u1828\u180E\u1820', 'Cze\u034Fch']) {
      expect(personName(name, 'first_name')).toBe(name);
    }
  });

  it.each([
    ['a C0 control (line break)', 'Ada\nX'],
    ['carriage return', 'Ada\rX'],
    ['tab inside', 'Ad\ta'],
    ['NUL', 'A\u0000a'],
    ['DEL', 'A\u007fa'],
    ['a C1 control (NEL)', 'A\u0085a'],
    ['an escape sequence', '\u001b[31mred'],
    ['right-to-left override', 'Ad\u202Emin'],
    ['left-to-right embedding', 'A\u202Aa'],
    ['an isolate', 'x\u2066y\u2069'],
    ['right-to-left mark', 'A\u200Fa'],
    ['Arabic letter mark', 'A\u061Ca'],
    ['zero-width space', 'A\u200Ba'],
    ['BOM inside', 'A\uFEFFda'],
    ['line separator', 'a\u2028b'],
    ['paragraph separator', 'a\u2029b'],
    // Since stop 50 (an outside review): every other invisible code point, and the noncharacters.
    ['word joiner', 'Ad\u2060min'],
    ['a soft hyphen alone (shows blank)', '\u00AD'],
    ['tag characters (hidden ASCII text)', 'Ad\u{E0041}min'],
    ['a Hangul filler alone', '\u3164'],
    ['noncharacters', '\uFFFE\uFFFF'],
    ['a noncharacter of another plane', 'A\u{1FFFF}'],
  ])('refuses %s with VALIDATION_ERROR on its field', (_what, raw) => {
    const attempt = () => personName(raw, 'last_name');
    expect(attempt).toThrow(DomainError);
    try {
      attempt();
    } catch (error) {
      expect((error as DomainError).details).toEqual({ last_name: [expect.stringContaining('must not contain')] });
    }
  });

  // Since stop 51 (a review of stop 50): a name of nothing visible, made of characters that are kept to join or modify
  // visible ones, shows as nothing in lists and emails.
  it.each([
    ['a zero-width non-joiner alone', '\u200C'],
    ['a variation selector alone', '\uFE0F'],
    ['an ideographic variation selector alone', '\u{E0100}'],
    ['a Mongolian vowel separator alone', '\u180E'],
    ['the Braille pattern blank', '\u2800'],
    ['combining marks alone', '\u0301\u0301\u0301'],
    ['joiners and blanks', '\u200D\u2800\u200C'],
  ])('refuses %s: must contain a visible character', (_what, raw) => {
    try {
      personName(raw, 'first_name');
      throw new Error('accepted');
    } catch (error) {
      expect((error as DomainError).details).toEqual({ first_name: ['must contain a visible character'] });
    }
  });

  it('a visible character with marks, joiners or selectors is a name', () => {
    for (const name of ['e\u0301', '\u2764\uFE0F', '\u0915\u094D\u200D\u0937', '-', '\u{1F600}']) expect(personName(name, 'first_name')).toBe(name);
    // Private-use characters: name characters Unicode lacks (Japanese systems, Hong Kong's HKSCS).
    for (const name of ['\uE000', '\uE001\uE002', '\u{F0000}']) expect(personName(name, 'first_name')).toBe(name);
  });
});
