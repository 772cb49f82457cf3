import type {
  InfoObject,
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ResponseObject,
  ResponsesObject,
  SchemaObject,
  SecurityRequirementObject,
} from 'openapi3-ts/oas31';
import { requestBodyOf } from '../routing/request-body';
import type { DtoClass, ResponseSpec, RouteDef } from '../routing/route';
import { dtoSchema } from './dto-schema';
import { errorResponses } from './errors';
import { META_SCHEMA, NAMED_SCHEMAS } from './schemas';

const COMPONENTS = '#/components/schemas/';
const PARAMETER = /:([A-Za-z_][A-Za-z0-9_]*)/g;

export const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /auth/login.' },
  client: {
    type: 'http',
    scheme: 'basic',
    description: 'A service client (npm run cli -- create-client): client_id and client_secret, RFC 6749 §2.3.1.',
  },
} as const;

/**
 * The OpenAPI 3.1 document of a route table (DESIGN 10): the same entries the mount builds its chains from, so
 * a route cannot exist undocumented. Shared schemas (schemas.ts) and request DTOs become components.
 */
export function buildOpenApiDocument(routes: readonly RouteDef[], info: InfoObject): OpenAPIObject {
  const components = new Components();
  const paths: Record<string, PathItemObject> = {};
  for (const route of routes) {
    const path = route.path.replace(PARAMETER, '{$1}');
    const item = (paths[path] ??= {});
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    if (item[method]) throw new Error(`duplicate route ${route.method} ${route.path}`);
    item[method] = operation(route, components);
  }
  return {
    openapi: '3.1.0',
    info,
    tags: [...new Set(routes.flatMap((r) => r.tags))].sort().map((name) => ({ name })),
    paths,
    components: { schemas: components.schemas, securitySchemes: { ...SECURITY_SCHEMES } },
  };
}

function operation(route: RouteDef, components: Components): OperationObject {
  const parameters: ParameterObject[] = [...route.path.matchAll(PARAMETER)].map(([, name]) => ({
    name: name!,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (route.query) parameters.push(...queryParameters(route.query.dto));
  if (route.staticDocument) parameters.push(IF_NONE_MATCH);
  // What the chain reads: a POST, PUT or PATCH without a body of its own takes an optional, empty object.
  const body = requestBodyOf(route);
  return {
    operationId: operationId(route),
    summary: route.summary,
    tags: route.tags,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: body.optional !== true,
            content: {
              'application/json': { schema: components.dto(body.dto, body.form === true) },
              // Standards-shaped parameters (RFC 6749 §3.2): the same members, form-urlencoded.
              ...(body.form ? { 'application/x-www-form-urlencoded': { schema: components.dto(body.dto, true) } } : {}),
            },
          },
        }
      : {}),
    responses: responses(route, components),
    ...security(route),
  };
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

/** A static document's conditional GET (static-lane.ts, static-document.ts): RFC 9110 §13.1.2. */
const IF_NONE_MATCH: ParameterObject = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: 'An ETag from an earlier answer: 304 without a body while the document is unchanged.',
  schema: { type: 'string' },
};
const DOCUMENT_HEADERS = {
  ETag: { description: "The document's entity tag (strong).", schema: { type: 'string' } },
  'Cache-Control': { description: 'How long a client may keep it (public, max-age).', schema: { type: 'string' } },
};

function responses(route: RouteDef, components: Components): ResponsesObject {
  const result: ResponsesObject = {};
  for (const [status, spec] of Object.entries(route.responses)) result[status] = success(spec, components);
  if (route.staticDocument) {
    // Until 2026-12-03 the document left these out, though the service sent them (an outside review).
    const ok = result['200'] as ResponseObject | undefined;
    if (ok) result['200'] = { ...ok, headers: { ...DOCUMENT_HEADERS } };
    result['304'] = { description: 'Not Modified: If-None-Match names the current ETag; no body.', headers: { ...DOCUMENT_HEADERS } };
  }
  for (const [status, error] of errorResponses(route, (schema) => components.ref(schema))) {
    const existing = result[String(status)] as ResponseObject | undefined;
    result[String(status)] = existing ? merged(existing, error) : error;
  }
  return result;
}

function success(spec: ResponseSpec, components: Components): ResponseObject {
  const contentType = spec.contentType ?? 'application/json';
  const data = spec.schema === undefined ? undefined : components.schema(spec.schema);
  let schema: SchemaObject | undefined;
  if (spec.envelope === false) schema = data ?? (spec.contentType ? { type: 'string' } : undefined);
  else schema = successEnvelope(data ?? { type: 'object' }, components);
  return { description: spec.description, ...(spec.headers ? { headers: spec.headers } : {}), ...(schema ? { content: { [contentType]: { schema } } } : {}) };
}

function successEnvelope(data: SchemaObject, components: Components): SchemaObject {
  return {
    type: 'object',
    required: ['success', 'data', 'meta'],
    properties: { success: { const: true }, data, meta: components.ref(META_SCHEMA) },
    additionalProperties: false,
  };
}

/** A status that is both a documented outcome and an error (e.g. 503 of /health/ready): either body. */
function merged(existing: ResponseObject, error: ResponseObject): ResponseObject {
  const first = existing.content?.['application/json']?.schema;
  const second = error.content?.['application/json']?.schema;
  if (!first || !second) return { ...existing, description: `${existing.description}; or ${error.description}` };
  return {
    description: `${existing.description}; or ${error.description}`,
    content: { ...existing.content, 'application/json': { schema: { oneOf: [first, second] } } },
  };
}

function security(route: RouteDef): { security?: SecurityRequirementObject[] } {
  if (route.auth === 'none') return {};
  if (route.auth === 'client') return { security: [{ client: [] }] };
  // OpenAPI 3.1 lets a non-OAuth requirement list the roles it needs.
  return { security: [{ bearer: route.auth === 'user' ? [] : [route.auth.role] }] };
}

/** `POST /api/v1/users/me/sessions/:id` -> `postApiV1UsersMeSessionsById`. */
function operationId(route: RouteDef): string {
  const words = route.path
    .replace(PARAMETER, 'by $1')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0);
  return [route.method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/** The document's reusable schemas: the shared ones of schemas.ts, referred to by identity, and the DTOs. */
class Components {
  readonly schemas: Record<string, SchemaObject> = {};
  private readonly names = new Map<object, string>(Object.entries(NAMED_SCHEMAS).map(([name, s]) => [s, name]));
  private readonly dtos = new Map<string, DtoClass>();

  /** A response's data schema: a DTO class or a JSON Schema, its shared parts replaced by references. */
  schema(schema: Record<string, unknown> | DtoClass): SchemaObject {
    return typeof schema === 'function' ? this.dto(schema) : this.ref(schema as SchemaObject);
  }

  /** `unknownIgnored`: a standards-shaped route's DTO, whose undeclared members are dropped, not refused. */
  dto(dto: DtoClass, unknownIgnored = false): SchemaObject {
    const name = dto.name;
    const known = this.dtos.get(name);
    if (known !== undefined && known !== dto) throw new Error(`two request DTO classes are named ${name}`);
    if (known === undefined) {
      if (name in NAMED_SCHEMAS) throw new Error(`DTO ${name} clashes with a shared schema`);
      this.dtos.set(name, dto);
      this.schemas[name] = dtoSchema(dto, { unknownIgnored });
    }
    return { $ref: `${COMPONENTS}${name}` };
  }

  ref(schema: SchemaObject): SchemaObject {
    const name = this.names.get(schema);
    if (name === undefined) return this.inline(schema);
    if (this.schemas[name] === undefined) {
      this.schemas[name] = {}; // reserves the name before the walk (a schema may contain itself)
      this.schemas[name] = this.inline(schema);
    }
    return { $ref: `${COMPONENTS}${name}` };
  }

  /** Walks a schema, replacing every shared sub-schema by its reference. */
  private inline(schema: SchemaObject): SchemaObject {
    return this.walk(schema) as SchemaObject;
  }

  private walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.walkChild(v));
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.walkChild(v)]));
  }

  private walkChild(value: unknown): unknown {
    return typeof value === 'object' && value !== null && this.names.has(value) ? this.ref(value as SchemaObject) : this.walk(value);
  }
}
