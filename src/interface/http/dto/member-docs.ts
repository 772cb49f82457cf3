import { JSONSchema } from 'class-validator-jsonschema';

/**
 * What the OpenAPI document says of request members beyond their decorators (openapi/dto-schema.ts merges these into
 * the DTO's schema): the domain's rules, applied after the DTO, and the rules across members that a handler or the
 * route's `check` applies. Documentation only: validation is the decorators', the checks' and the domain's. A schema
 * here must hold for every value the route accepts (an outside review found bounds and formats that did not).
 */
type Doc = Record<string, unknown>;

/** class-validator-jsonschema types its decorator with OpenAPI 3.0's schema object; these are 3.1 (JSON Schema 2020-12). */
const doc = (schema: Doc): PropertyDecorator & ClassDecorator => JSONSchema(schema as Parameters<typeof JSONSchema>[0]) as PropertyDecorator & ClassDecorator;

const CANONICAL_EMAIL =
  'Read in canonical form: trimmed, Unicode NFKC, lower-case, and an IDN domain in Unicode form (`xn--` labels decoded), so ' +
  '`Ada@XN--BCHER-KVA.example` and `ada@bücher.example` name one address. Internationalised addresses (RFC 6531) are accepted; ' +
  'accounts show the canonical form (format idn-email).';

/** An email address a request names (register, login, resets, credentials, invitations). */
export const EmailDoc = (): PropertyDecorator => doc({ description: CANONICAL_EMAIL });

/** A blank email or username (empty or whitespace alone) counts as absent at login (loginIdentifier). */
export const LoginEmailDoc = (): PropertyDecorator => doc({ description: `${CANONICAL_EMAIL} A blank value counts as absent.` });

export const LoginUsernameDoc = (): PropertyDecorator =>
  doc({
    description:
      "The account's username, compared in canonical form (trimmed, Unicode NFKC, lower-case); a value with `@` is read as an email address, as in `email`. A blank value counts as absent.",
  });

/**
 * Username.create: 3-32 of [a-z0-9_.-] after trimming, NFKC and lower-casing the value sent. NFKC turns compatibility
 * forms into letters (full-width `ＡＤＡ` is `ada`; the one ligature `ﬃ` is `ffi`), so no pattern or minimum beyond one
 * character holds for every value accepted; the empty string is refused.
 */
export const UsernameDoc = ({ nullClears }: { nullClears: boolean }): PropertyDecorator =>
  doc({
    minLength: 1,
    description:
      '3-32 characters of a-z, 0-9, `_`, `.` and `-` once trimmed, Unicode NFKC-normalised and lower-cased (`  Ada.L ` is stored `ada.l`; ' +
      'full-width and other compatibility forms count as the letters they normalise to). Unique, compared case-insensitively (409 USERNAME_TAKEN); ' +
      `anything else is 400 VALIDATION_ERROR.${nullClears ? ' `null` removes the username.' : ''}`,
  });

/** PasswordPolicy and Password (CONTRACT §5); the DTO bounds only the work done on the value (MaxUnits 512). */
export const NewPasswordDoc = (): PropertyDecorator =>
  doc({
    description:
      'The password policy applies to its Unicode NFKC form, the one hashed: at most 128 characters (code points), and at least PASSWORD_MIN_LENGTH ' +
      '(default 8, configurable 8-128) counted as the fewer of the characters typed and those of the NFKC form (NFKC expands some characters); ' +
      "not common or too easy to guess (a strength estimate); not containing the email address's local part (of 3 characters or more); no composition rules. " +
      'A password outside it is 400 WEAK_PASSWORD, `details.password` saying why. Longer than 512 UTF-16 units: 400 VALIDATION_ERROR.',
  });

export const CurrentPasswordDoc = (): PropertyDecorator =>
  doc({
    description:
      "The account's current password, checked against its hash (in Unicode NFKC, and as typed for a hash made before passwords were normalised). " +
      'Any string of at most 512 UTF-16 units is read; a wrong one is 401 INVALID_CREDENTIALS.',
  });

/** totpCode (mfa.dto.ts): people type and paste codes with spaces, dashes and full-width digits. */
export const TotpCodeDoc = (): PropertyDecorator =>
  doc({
    description:
      'The 6 digits the authenticator app shows. Spaces, line breaks and dashes are taken out and compatibility forms mapped (Unicode NFKC: ' +
      'full-width digits) first, so `123 456` reads as `123456`; what is then not 6 digits is 400 VALIDATION_ERROR, and no guess.',
  });

/** backupCode (mfa.dto.ts). */
export const BackupCodeDoc = (): PropertyDecorator =>
  doc({
    description:
      'One of the 12-character backup codes (Crockford base32, any case; spaces and dashes are taken out, o reads as 0, i and l as 1). ' +
      'What is then not 12 such characters is 400 VALIDATION_ERROR, and no guess.',
  });

/** secondFactorProof (mfa.dto.ts): `null` counts as absent, an empty string as present (and malformed). */
export const ONE_SECOND_FACTOR = doc({
  description: 'Exactly one of `code` or `backup_code` (a null one counts as absent); 400 VALIDATION_ERROR otherwise.',
  oneOf: [
    { required: ['code'], properties: { code: { type: 'string' } } },
    { required: ['backup_code'], properties: { backup_code: { type: 'string' } } },
  ],
});

/** loginIdentifier (auth.dto.ts): exactly one of email or username that is not blank (JavaScript's trim: `\s`). */
export const ONE_LOGIN_IDENTIFIER = doc({
  description: 'Exactly one of `email` or `username` (a null or blank one counts as absent); 400 VALIDATION_ERROR otherwise.',
  oneOf: [
    { required: ['email'], properties: { email: { type: 'string', pattern: '\\S' } } },
    { required: ['username'], properties: { username: { type: 'string', pattern: '\\S' } } },
  ],
});

/** assertSomethingToChange (account.dto.ts): present counts, `"username": null` (remove it) included. */
export const EMAIL_OR_USERNAME = doc({
  description: 'At least one of `email` or `username` (`null` removes the username); 400 VALIDATION_ERROR otherwise.',
  anyOf: [{ required: ['email'] }, { required: ['username'] }],
});

/** PATCH /admin/users/:id (admin.routes.ts): a change names at least one member. */
export const SOMETHING_TO_UPDATE = doc({
  description: 'At least one of `status`, `roles` or `email_verified`; 400 VALIDATION_ERROR otherwise.',
  anyOf: [{ required: ['status'] }, { required: ['roles'] }, { required: ['email_verified'] }],
});

/**
 * client-guard.ts: body credentials come as a pair (one alone is 401 invalid_client, or 400 invalid_request beside
 * HTTP Basic), and never beside HTTP Basic, which no schema of the body can say (the operation's description does).
 */
export const CLIENT_CREDENTIALS_PAIR = doc({ dependentRequired: { client_id: ['client_secret'], client_secret: ['client_id'] } });

export const ClientIdDoc = (): PropertyDecorator =>
  doc({ description: 'client_secret_post: the client id, with client_secret, instead of HTTP Basic (never both). A null one is refused (401 invalid_client).' });
export const ClientSecretDoc = (): PropertyDecorator => doc({ description: 'client_secret_post: the secret, with client_id. A null one is refused (401 invalid_client).' });

/** instantParam (presenters/admin.presenter.ts) after IsISO8601: the forms it reads, a necessary shape as the pattern. */
export const InstantDoc = (): PropertyDecorator =>
  doc({
    pattern: '^[0-9]{4}(-[0-9]{2}(-[0-9]{2}([T ].+)?)?)?$',
    description:
      'An instant, ISO 8601 extended calendar form: a year, a month or a day (`2026`, `2026-01`, `2026-01-31`), or a date and time ' +
      '(`2026-01-31T10:00:00Z`, `2026-01-31T10:00+02:00`, fractions of a second allowed; a space may stand for the T). A date alone, or a time ' +
      'without an offset, is UTC. Years 1-9999, and the day must exist; week and ordinal dates, the basic format and anything else are 400 VALIDATION_ERROR, as is an `until` earlier than `since`.',
  });
