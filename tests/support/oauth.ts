/** Service clients and client authentication for the OAuth e2e and security suites. */
import { CreateClient } from '@application/oauth/create-client';
import { DeleteClient } from '@application/oauth/delete-client';
import type { TestApp } from './app';

export interface TestClient {
  id: string;
  secret: string;
}

/** Registers a client through the application (the CLI cannot open an embedded DATA_DIR the service holds). */
export async function createClient(t: TestApp, scopes = 'orders:read orders:write', name = 'billing'): Promise<TestClient> {
  const { client, secret } = await t.app.container.get(CreateClient).execute({ name, scopes });
  return { id: client.id, secret };
}

export async function deleteClient(t: TestApp, id: string): Promise<void> {
  await t.app.container.get(DeleteClient).execute({ id });
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B). */
export function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** RFC 6749 §2.3.1: id and secret form-urlencoded, joined by a colon, base64. */
export function basic(client: TestClient): string {
  return `Basic ${Buffer.from(`${formEncode(client.id)}:${formEncode(client.secret)}`).toString('base64')}`;
}

export function form(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`)
    .join('&');
}
