/**
 * How UTS #46 (what the mailer's domainToASCII follows) maps a domain where Email's fold (NFKC, lower case one code
 * point at a time, NFKC) does not: the marks it ignores, the letters it case-folds further, and the letters whose
 * lower case or NFKC form is another letter than its mapping. Email applies these to the domain only: a local part is
 * delivered octet for octet. Split from email.ts (2026-12-08) to keep each file to one concern.
 */
/**
 * Marks that UTS #46 ignores in a domain name (maps to nothing): the combining grapheme joiner, the Mongolian free
 * variation selectors and the variation selectors. What the mailer sends to (Node's domainToASCII) drops them, so
 * `victim@examp\uFE0Fle.com` is example.com's mailbox: they are dropped from the stored domain too. Until stop 49
 * they were kept, and each invisible spelling was another account for one inbox: pre-hijacking, and per-address mail
 * quotas multiplied (an outside review).
 */
export const IGNORED_IN_DOMAIN = /[\u034F\u180B-\u180D\u180F\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/gu;
/**
 * Letters UTS #46 maps in a domain that a per-code-point lower case leaves as they are (its case folding goes
 * further): the Greek iota subscript (U+0345, alone or inside a precomposed letter such as `ᾳ`) becomes `ι`, and
 * the old Cyrillic variants U+1C80-1C88 become the letters they are variants of. The mailer's domainToASCII maps
 * them, so `ivan@п\u1C82ч\u1C84а.рф` is почта.рф's inbox and `πᾳδεια.gr` is παιδεια.gr; `Email` kept them, and each
 * such spelling was another account for one inbox (pre-hijacking; per-address mail quotas multiplied: an outside
 * review, 2026-12-07). A scan of every code point against domainToASCII (tests/unit/domain/email.test.ts) finds no
 * other letter the fold leaves that UTS #46 maps.
 */
const CASE_FOLDED_IN_DOMAIN = /[\u0345\u1C80-\u1C88\u1F80-\u1FFF]/u;
const OLD_CYRILLIC: Readonly<Record<string, string>> = {
  '\u1C80': '\u0432',
  '\u1C81': '\u0434',
  '\u1C82': '\u043E',
  '\u1C83': '\u0441',
  '\u1C84': '\u0442',
  '\u1C85': '\u0442',
  '\u1C86': '\u044A',
  '\u1C87': '\u0463',
  '\u1C88': '\uA64B',
};
/**
 * Letters whose lower case or NFKC form is another letter than the one UTS #46 maps them to in a domain: the capital
 * sharp s ẞ (U+1E9E) lower-cases to ß, where UTS #46 maps it to `ss`; the lunate sigma ϲ (U+03F2) and the mathematical
 * final sigmas become ς under NFKC, where UTS #46 maps them to σ. The fold cannot tell them from a ß or ς typed as
 * such (which stay: another DNS name), so they are mapped in the typed domain before it. Until an outside review
 * (2026-12-08) `max@STRAẞE.de` was stored and mailed as straße.de, another DNS name than the strasse.de the typed
 * spelling reaches, and its links went to that domain's owner. The scan in tests/unit/domain/email.test.ts compares
 * every code point's stored domain with the one domainToASCII reaches from the typed one.
 */
const MAPPED_BEFORE_FOLD = /[\u1E9E\u03F2\u{1D6D3}\u{1D70D}\u{1D747}\u{1D781}\u{1D7BB}]/gu;
/** What ends the local part: `@`, or a compatibility form NFKC makes `@` (a scan of every code point finds these). */
const AT_SIGNS = /[@\uFE6B\uFF20]/gu;


/** `raw` with the letters of MAPPED_BEFORE_FOLD in its domain (after its last at sign) mapped as UTS #46 maps them. */
export function mapDomainBeforeFold(raw: string): string {
  let at = -1;
  for (const match of raw.matchAll(AT_SIGNS)) at = match.index;
  if (at < 0) return raw;
  const domain = raw.slice(at + 1);
  if (domain.search(MAPPED_BEFORE_FOLD) < 0) return raw; // search, not test: a /g expression keeps its lastIndex
  return raw.slice(0, at + 1) + domain.replace(MAPPED_BEFORE_FOLD, (letter) => (letter === '\u1E9E' ? 'ss' : '\u03C3'));
}

/** A folded domain with the letters of CASE_FOLDED_IN_DOMAIN mapped as UTS #46 maps them (NFKC kept). */
export function foldDomainCase(domain: string): string {
  if (!CASE_FOLDED_IN_DOMAIN.test(domain)) return domain;
  return domain
    .normalize('NFD')
    .replace(/\u0345/gu, '\u03B9')
    .replace(/[\u1C80-\u1C88]/gu, (letter) => OLD_CYRILLIC[letter]!)
    .normalize('NFKC');
}
