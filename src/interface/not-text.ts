/**
 * A NUL (PostgreSQL's text refuses it: the statement would fail) or a lone UTF-16 surrogate (RFC 7493 I-JSON; it
 * would be stored as U+FFFD, and two passwords differing only there would hash alike). Paired surrogates are one
 * code point in a `u` regex and do not match. The HTTP bodies and queries (dto/validate-dto.ts) and the CLI's
 * password from stdin (cli/create-admin.ts) refuse the same characters: a password one of them takes, the other
 * takes too (an outside review, 2026-12-07: the CLI stored passwords HTTP login could never send).
 */
export const NOT_TEXT = /[\u0000\p{Surrogate}]/u;
