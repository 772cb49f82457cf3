import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { buildMessage, getMetadataStorage, validate, ValidateBy, type ValidationError, type ValidationOptions } from 'class-validator';
import type { ErrorDetails } from '@domain/shared/domain-error';
import { Errors } from '@application/shared/errors';
import { NOT_TEXT } from '../../not-text';

/**
 * A DTO class may name members that take any string (`static readonly anyString = ['token']`): a value that is
 * only hashed or parsed, never stored as text, where a standard prescribes the answer for garbage (RFC 7662's
 * `{"active": false}`, RFC 7009's 200) rather than a 400.
 */
interface AnyStringMembers {
  anyString?: readonly string[];
}

/** The top-level members whose value holds, at any depth, a string or key that is not text (NOT_TEXT). */
function membersNotText(plain: Record<string, unknown>, anyString: readonly string[]): string[] {
  const bad: string[] = [];
  for (const [member, root] of Object.entries(plain)) {
    if (anyString.includes(member) && typeof root === 'string') continue;
    // Explicit stack: JSON bodies are at most MAX_JSON_DEPTH deep (json-body), queries are flat.
    const stack: unknown[] = [root];
    let clean = !NOT_TEXT.test(member);
    for (let value = stack.pop(); clean && value !== undefined; value = stack.pop()) {
      if (typeof value === 'string') clean = !NOT_TEXT.test(value);
      else if (typeof value === 'object' && value !== null) {
        for (const [key, child] of Object.entries(value)) {
          if (NOT_TEXT.test(key)) clean = false;
          stack.push(child);
        }
      }
    }
    if (!clean) bad.push(member);
  }
  return bad;
}

/**
 * Turns the parsed body into a validated DTO. No implicit conversion: `123` stays a number and fails IsString.
 * Fields the DTO does not declare (role, status, id ...) are rejected, not ignored.
 */
export async function toDto<T extends object>(dtoClass: new () => T, body: Record<string, unknown> | undefined): Promise<T> {
  const plain = body ?? {};
  const declared = declaredMembers(dtoClass);
  // No prototype: `details['__proto__'] = …` (a query string may name it) must record an error, not re-prototype.
  const details: ErrorDetails = Object.create(null) as ErrorDetails;
  // Refused here rather than by forbidNonWhitelisted alone: class-transformer silently skips a key whose target is
  // already a member of the instance (__proto__, constructor, hasOwnProperty, toString, __defineGetter__ ...),
  // so the whitelist never sees those. Same message as the whitelist's.
  for (const key of Object.keys(plain).filter((k) => !declared.has(k))) {
    details[key] = [`property ${key} should not exist`];
  }
  const notText = membersNotText(plain, (dtoClass as AnyStringMembers).anyString ?? []);
  if (notText.length > 0) {
    // Refused before class-validator sees them: no rule of a DTO needs to think about these characters.
    for (const key of notText) details[key] = ['must not contain NUL characters or unpaired surrogates'];
    throw Errors.invalidRequest(details);
  }
  if (declared.size === 0) {
    // A DTO that declares no member (routing/request-body.ts: a route without a body) takes `{}` alone (every
    // member sent was refused above). class-validator cannot say so: with forbidUnknownValues it refuses even
    // `{}` of a class it has no rules for.
    if (Object.keys(details).length > 0) throw Errors.invalidRequest(details);
    return new dtoClass();
  }
  const dto = toInstance(dtoClass, plain, declared);
  const errors = await validate(dto, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  Object.assign(details, toDetails(errors, dto as Record<string, unknown>));
  if (Object.keys(details).length > 0) throw Errors.invalidRequest(details);
  return dto;
}

/**
 * The DTO instance of the declared members. No DTO has a nested type, so a member that holds an object (or an array
 * holding one) is of the wrong type whatever it contains: it is set on the instance as sent, for class-validator to
 * refuse with the member's type message, and never given to class-transformer, which takes a nested object's own
 * `constructor` member for its class and throws (`{"email": {"constructor": 1}}` answered 500 on every public route
 * until stop 56: a review of stop 55). Undeclared members were refused above and are not copied.
 */
function toInstance<T extends object>(dtoClass: new () => T, plain: Record<string, unknown>, declared: Set<string>): T {
  const flat: Record<string, unknown> = {};
  const nested: Array<[string, unknown]> = [];
  for (const name of declared) {
    if (!Object.hasOwn(plain, name)) continue;
    const value = plain[name];
    if (holdsObject(value)) nested.push([name, value]);
    else flat[name] = value;
  }
  const dto = plainToInstance(dtoClass, flat, { enableImplicitConversion: false });
  for (const [name, value] of nested) Object.defineProperty(dto, name, { value, enumerable: true, writable: true, configurable: true });
  return dto;
}

function holdsObject(value: unknown): boolean {
  if (Array.isArray(value)) return value.some((item) => typeof item === 'object' && item !== null);
  return typeof value === 'object' && value !== null;
}

/** The members of `body` the DTO declares (class-validator metadata); the rest dropped, not refused. */
export function knownMembers(dtoClass: new () => object, body: Record<string, unknown> | undefined): Record<string, unknown> {
  const declared = declaredMembers(dtoClass);
  return Object.fromEntries(Object.entries(body ?? {}).filter(([name]) => declared.has(name)));
}

/** The members a DTO class declares: those class-validator has a rule for. */
function declaredMembers(dtoClass: new () => object): Set<string> {
  return new Set(getMetadataStorage().getTargetValidationMetadatas(dtoClass, '', true, false).map((m) => m.propertyName));
}

/** Constraints on a value's type: when one fails, the rules about its length or contents say nothing useful. */
const TYPE_CHECKS = new Set(['isString', 'isArray']);

/**
 * One reason per member, the first that applies: missing (`<member> is required`), of the wrong type (that check's
 * message alone), else every rule it breaks. Until 2026-12-03 every failed rule was listed, so `{}` at login
 * answered "password must be at most 512 characters long" beside "password must be a string", and nothing said it
 * was required (an outside review).
 */
function toDetails(errors: ValidationError[], dto: Record<string, unknown>): ErrorDetails {
  // No prototype: `details['__proto__'] = …` (a query string may name it) must record an error, not re-prototype.
  const details: ErrorDetails = Object.create(null) as ErrorDetails;
  for (const error of errors) {
    const constraints = Object.entries(error.constraints ?? {});
    const typeFailures = constraints.filter(([name]) => TYPE_CHECKS.has(name)).map(([, message]) => message);
    const messages =
      dto[error.property] === undefined && constraints.length > 0
        ? [`${error.property} is required`]
        : typeFailures.length > 0
          ? typeFailures
          : constraints.map(([, message]) => message);
    details[error.property] = messages.length > 0 ? messages : ['is invalid'];
  }
  return details;
}

/**
 * Maximum length in UTF-16 code units (String#length), unlike MaxLength which counts code points: this bounds the
 * work done on the value (hashing, normalising) before the domain applies its own rules.
 */
export function MaxUnits(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxUnits',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && value.length <= max,
        defaultMessage: buildMessage((each) => `${each}$property must be at most ${max} characters long`, options),
      },
    },
    options,
  );
}

/**
 * MaxUnits for a value also used in NFKC (the admin search, matched as typed and in NFKC): checked as typed and as
 * normalised, since NFKC can make one character 18 (U+FDFA), so 100 typed could reach the database as 1,800 (a
 * security review, 2026-12-05).
 */
export function MaxUnitsNormalized(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxUnitsNormalized',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && value.length <= max && value.normalize('NFKC').length <= max,
        defaultMessage: buildMessage((each) => `${each}$property must be at most ${max} characters long (after Unicode NFKC normalization)`, options),
      },
    },
    options,
  );
}
