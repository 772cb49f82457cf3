import 'reflect-metadata';
import { getMetadataStorage, IS_ISO8601 } from 'class-validator';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import type { SchemaObject } from 'openapi3-ts/oas31';
import type { DtoClass } from '../routing/route';

/** Schemas of nested DTO classes (none yet) would be components of the document. */
const REF_PREFIX = '#/components/schemas/';

/**
 * The request body's JSON Schema from the DTO's class-validator metadata (class-validator-jsonschema), adjusted
 * to what toDto() (dto/validate-dto.ts) really accepts:
 * - MaxUnits is our own constraint: a string of at most N UTF-16 units. JSON Schema's maxLength counts code
 *   points, never more than the units, so the bound shown is the same or looser, never stricter.
 * - IsOptional lets `null` through as well as an absent member (PATCH: null clears), so such members are
 *   nullable; ValidateIf(value !== undefined) members are optional but not nullable.
 * - Undeclared members are rejected (forbidNonWhitelisted): additionalProperties false; on the standards-shaped
 *   routes (`form`: RFC 6749 §3.1) they are ignored, and the schema leaves them open (`unknownIgnored`).
 * - `form`: the form-urlencoded variant of such a route's body, where every value is a string: nothing is nullable.
 * - IsISO8601 says nothing here: the converter's `oneOf` of formats `date` and `date-time` matched every string twice
 *   where formats are annotations (so it refused all) and refused forms the route reads (`2026-01`, a time without an
 *   offset) where they are assertions. The member's own @JSONSchema says what the route reads (an outside review).
 * - What the decorators cannot say (a rule across members, the domain's rules) comes from the DTO's @JSONSchema.
 */
export function dtoSchema(dto: DtoClass, { unknownIgnored = false, form = false } = {}): SchemaObject {
  const schema = targetConstructorToSchema(dto, {
    refPointerPrefix: REF_PREFIX,
    additionalConverters: {
      maxUnits: (meta: { constraints: unknown[] }) => ({ type: 'string', maxLength: Number(meta.constraints[0]) }),
      [IS_ISO8601]: { type: 'string' },
    },
  }) as SchemaObject;
  const properties = (schema.properties ?? {}) as Record<string, SchemaObject>;
  for (const name of form ? [] : nullableMembers(dto)) {
    const member = properties[name];
    if (member && typeof member.type === 'string') {
      properties[name] = { ...member, type: [member.type, 'null'], ...(member.enum ? { enum: [...member.enum, null] } : {}) };
    }
  }
  return { ...schema, type: 'object', properties, ...(unknownIgnored ? {} : { additionalProperties: false }) };
}

function nullableMembers(dto: DtoClass): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  return metadata.filter((m) => m.name === 'isOptional').map((m) => m.propertyName);
}
