import type { RouteDef } from './route';

/**
 * Checks one entry with its own body and service types (the handler gets the DTO class's instance and the
 * resolved `uses`), then widens it for a table.
 */
export function defineRoute<Body extends object = object, Service = unknown, Query extends object = object>(
  route: RouteDef<Body, Service, Query>,
): RouteDef {
  return route as unknown as RouteDef;
}
