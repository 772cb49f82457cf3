/**
 * auth-service SDK (CONTRACT §9): `require('auth-service/sdk')` / `import ... from 'auth-service/sdk'`.
 * Depends on nothing of the service and on no package at run time but jose (and amqplib, an optional peer
 * dependency loaded only by createRevocationFeed); the Koa middleware is typed against Koa's types only.
 */
export { AuthError, isAuthError, type AuthErrorCode } from './errors';
export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions, type VerifiedToken, type VerifyOptions } from './token-verifier';
export type { MiddlewareOptions, AuthState } from './koa-middleware';
export type { IntrospectionOptions } from './introspector';
export { createRevocationFeed, type RevocationFeed, type RevocationFeedLogger, type RevocationFeedOptions } from './revocation-feed';
export { REVOCATION_EVENT_TYPES } from './revocation-events';
export { RevocationList, type RevocationCheck, type RevocationListOptions } from './revocation-list';
export { ServiceTokenSource, type ServiceTokenSourceOptions } from './service-token-source';
export { AuthClient, type AuthClientOptions } from './auth-client';
export type { SessionFetch, SessionOptions } from './session';
export { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker';
export type { BackoffOptions } from './backoff';
export type { FetchLike } from './http';
export type * from './types';
