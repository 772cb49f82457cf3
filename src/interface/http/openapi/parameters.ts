import type { ParameterObject, SchemaObject } from 'openapi3-ts/oas31';
import type { DtoClass, RouteDef } from '../routing/route';
import { ASSET_NAMES } from './docs-page';
import { dtoSchema } from './dto-schema';

/** A path parameter in a route's pattern (`:id`). */
export const PATH_PARAMETER = /:([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Path parameters by name, as the handlers read them; any other is a string. `id` names an account (admin.routes.ts)
 * or a session (DELETE /users/me/sessions/:id): the repositories find nothing for a value that is not a UUID, so it is
 * answered as an unknown id is (documented as any string until a review).
 */
const PATH_PARAMETERS: Readonly<Record<string, Pick<ParameterObject, 'description' | 'schema'>>> = {
  id: { description: 'A UUID, in any case. Anything else is answered 404 NOT_FOUND, as an unknown id is.', schema: { type: 'string', format: 'uuid' } },
  file: { description: 'A file of the allow-list; any other name is answered 404 ROUTE_NOT_FOUND.', schema: { type: 'string', enum: [...ASSET_NAMES] } },
};

/** A static document's conditional GET (static-lane.ts, static-document.ts): RFC 9110 §13.1.2. */
const IF_NONE_MATCH: ParameterObject = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: 'An ETag from an earlier answer: 304 without a body while the document is unchanged.',
  schema: { type: 'string' },
};

/** The operation's parameters: the path's, the query DTO's members, and a static document's If-None-Match. */
export function parametersOf(route: RouteDef): ParameterObject[] {
  const parameters: ParameterObject[] = [...route.path.matchAll(PATH_PARAMETER)].map(([, name]) => ({
    name: name!,
    in: 'path',
    required: true,
    ...(PATH_PARAMETERS[name!] ?? { schema: { type: 'string' } }),
  }));
  if (route.query) parameters.push(...queryParameters(route.query.dto));
  if (route.staticDocument) parameters.push(IF_NONE_MATCH);
  return parameters;
}

/** One parameter per member of the query DTO, with the member's schema (all strings on the wire). */
function queryParameters(dto: DtoClass): ParameterObject[] {
  const schema = dtoSchema(dto);
  const required = new Set(schema.required ?? []);
  return Object.entries((schema.properties ?? {}) as Record<string, SchemaObject>).map(([name, member]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: member,
    ...(typeof member.description === 'string' ? { description: member.description } : {}),
  }));
}
