import type { InfoObject, OpenAPIObject } from 'openapi3-ts/oas31';
import type { RouteDef } from '../routing/route';
import { buildOpenApiDocument } from './build-document';

/**
 * The service's OpenAPI document, built once at start from the route table and served as is by
 * GET /openapi.json (docs.routes.ts, `uses: OpenApiDocument`). The composition root binds one instance:
 * `container.bind(OpenApiDocument).toConstantValue(new OpenApiDocument(ROUTES, info))`.
 */
export class OpenApiDocument {
  readonly document: OpenAPIObject;
  /** Serialised once: every request gets the same bytes. */
  readonly json: string;

  constructor(routes: readonly RouteDef[], info: InfoObject) {
    this.document = buildOpenApiDocument(routes, info);
    this.json = JSON.stringify(this.document);
  }
}
