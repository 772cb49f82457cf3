import type {
  ContentObject,
  HeaderObject,
  HeadersObject,
  InfoObject,
  OpenAPIObject,
  OperationObject,
  PathItemObject,
  ResponseObject,
  ResponsesObject,
  SchemaObject,
} from 'openapi3-ts/oas31';
import { requestBodyOf } from '../routing/request-body';
import type { DtoClass, ResponseSpec, RouteDef } from '../routing/route';
import { ASSET_MEDIA_TYPES, ASSETS_PATH } from './docs-page';
import { dtoSchema } from './dto-schema';
import { errorResponses } from './errors';
import { RATE_LIMIT_HEADERS } from './headers';
import { PATH_PARAMETER, parametersOf } from './parameters';
import { META_SCHEMA, NAMED_SCHEMAS } from './schemas';
import { SECURITY_SCHEMES, security, securityDescription } from './security';

const COMPONENTS = '#/components/schemas/';

/** Successes whose media type depends on the resource: the docs page's files (docs-page.ts), one entry per type. */
const MEDIA_TYPES: Readonly<Record<string, readonly string[]>> = { [`${ASSETS_PATH}/:file`]: ASSET_MEDIA_TYPES };

/**
 * The OpenAPI 3.1 document of a route table (DESIGN 10): the same entries the mount builds its chains from, so
 * a route cannot exist undocumented. Shared schemas (schemas.ts) and request DTOs become components.
 */
export function buildOpenApiDocument(routes: readonly RouteDef[], info: InfoObject): OpenAPIObject {
  const components = new Components();
  const paths: Record<string, PathItemObject> = {};
  for (const route of routes) {
    const path = route.path.replace(PATH_PARAMETER, '{$1}');
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
  const parameters = parametersOf(route);
  // What the chain reads: a POST, PUT or PATCH without a body of its own takes an optional, empty object.
  const body = requestBodyOf(route);
  const description = securityDescription(route);
  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(description ? { description } : {}),
    tags: route.tags,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: body.optional !== true,
            content: {
              'application/json': { schema: components.dto(body.dto, body.form === true ? 'json' : 'strict') },
              // Standards-shaped parameters (RFC 6749 §3.2): the same members, form-urlencoded (strings: no null there).
              ...(body.form ? { 'application/x-www-form-urlencoded': { schema: components.dto(body.dto, 'form') } } : {}),
            },
          },
        }
      : {}),
    responses: responses(route, components),
    ...security(route),
  };
}

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
  const mediaTypes = MEDIA_TYPES[route.path];
  const ok = result['200'] as ResponseObject | undefined;
  if (mediaTypes && ok) result['200'] = { ...ok, content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: bodyOf(type) }])) };
  // A rate-limited route's answers, errors included, carry the quotas that counted the request (rate-limit.ts): the
  // per-IP one runs first in its chain (mount.ts). Sent, and not documented, until a review.
  if (route.limit) {
    for (const [status, response] of Object.entries(result)) {
      const answer = response as ResponseObject;
      result[status] = { ...answer, headers: { ...(answer.headers ?? {}), ...RATE_LIMIT_HEADERS } };
    }
  }
  return result;
}

/** What a file of that media type is: JSON (source maps), text (scripts, styles), or bytes (no schema). */
function bodyOf(mediaType: string): SchemaObject {
  if (/^application\/json\b/.test(mediaType)) return { type: 'object' };
  return /^(text\/|application\/javascript\b)/.test(mediaType) ? { type: 'string' } : {};
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

/**
 * A status that is both a documented outcome and an error (e.g. 503 of /health/ready): either body, and the headers
 * of either, required only where both require them.
 */
function merged(existing: ResponseObject, error: ResponseObject): ResponseObject {
  const description = `${existing.description}; or ${error.description}`;
  const headers = mergedHeaders(existing.headers, error.headers);
  const first = existing.content?.['application/json']?.schema;
  const second = error.content?.['application/json']?.schema;
  const content: ContentObject | undefined = !first || !second ? existing.content : { ...existing.content, 'application/json': { schema: { oneOf: [first, second] } } };
  return { description, ...(headers ? { headers } : {}), ...(content ? { content } : {}) };
}

function mergedHeaders(a: HeadersObject | undefined, b: HeadersObject | undefined): HeadersObject | undefined {
  if (!a && !b) return undefined;
  const required = (header: unknown) => (header as HeaderObject | undefined)?.required === true;
  const names = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return Object.fromEntries([...names].map((name) => [name, { ...(a?.[name] ?? b?.[name]), required: required(a?.[name]) && required(b?.[name]) }]));
}

/** `POST /api/v1/users/me/sessions/:id` -> `postApiV1UsersMeSessionsById`. */
function operationId(route: RouteDef): string {
  const words = route.path
    .replace(PATH_PARAMETER, 'by $1')
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

  /**
   * `strict`: undeclared members refused. `json` and `form`: a standards-shaped route's DTO, whose undeclared members
   * are dropped, not refused; `form`, its form-urlencoded variant (`<Name>Form`), where no member can be null.
   */
  dto(dto: DtoClass, variant: 'strict' | 'json' | 'form' = 'strict'): SchemaObject {
    const name = variant === 'form' ? `${dto.name}Form` : dto.name;
    const known = this.dtos.get(name);
    if (known !== undefined && known !== dto) throw new Error(`two request DTO classes are named ${dto.name}`);
    if (known === undefined) {
      if (name in NAMED_SCHEMAS) throw new Error(`DTO ${name} clashes with a shared schema`);
      this.dtos.set(name, dto);
      this.schemas[name] = dtoSchema(dto, { unknownIgnored: variant !== 'strict', form: variant === 'form' });
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
