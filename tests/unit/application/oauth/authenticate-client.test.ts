import { randomBytes } from 'node:crypto';
import { AuthenticateClient } from '@application/oauth/authenticate-client';
import { CreateClient } from '@application/oauth/create-client';
import { DeleteClient } from '@application/oauth/delete-client';
import { IssueClientToken } from '@application/oauth/issue-client-token';
import { OAuthError } from '@application/oauth/oauth-error';
import type { ClientSecrets } from '@application/ports/client-secrets';
import { PORTS } from '@application/ports/tokens';
import { HmacClientSecrets } from '@infrastructure/security/crypto/hmac-client-secrets';
import { createKit } from '../support/test-kit';

/** The real HMAC secrets, counting how often a secret is checked (the work an attacker could time). */
class CountingSecrets implements ClientSecrets {
  checks: (string | null)[] = [];
  constructor(private readonly inner: ClientSecrets) {}
  create() {
    return this.inner.create();
  }
  matches(secret: string, hash: string | null): boolean {
    this.checks.push(hash);
    return this.inner.matches(secret, hash);
  }
}

describe('AuthenticateClient', () => {
  const secrets = new CountingSecrets(new HmacClientSecrets(randomBytes(32)));

  /** A kit (in-memory tables) with one client registered through the use case the CLI runs. */
  async function registered() {
    const kit = await createKit();
    const clients = kit.repos.clients;
    const create = new CreateClient(kit.uow, secrets, kit.resolve(PORTS.IdGenerator), kit.clock);
    return { kit, clients, authenticate: new AuthenticateClient(clients, secrets), ...(await create.execute({ name: 'billing', scopes: 'a b' })) };
  }

  it('authenticates the right secret', async () => {
    const { authenticate, client, secret } = await registered();
    await expect(authenticate.execute({ clientId: client.id, clientSecret: secret })).resolves.toMatchObject({ id: client.id });
  });

  it('checks a secret for unknown ids too (against a dummy), and answers them as it answers a wrong secret', async () => {
    const { authenticate, client, secret } = await registered();
    secrets.checks = [];
    const unknown = await authenticate.execute({ clientId: 'no-such-client', clientSecret: secret }).catch((e: unknown) => e);
    const wrong = await authenticate.execute({ clientId: client.id, clientSecret: `${secret}x` }).catch((e: unknown) => e);
    expect(secrets.checks).toEqual([null, client.secretHash]);
    expect(unknown).toBeInstanceOf(OAuthError);
    expect(wrong).toEqual(unknown);
    expect((wrong as OAuthError).error).toBe('invalid_client');
  });

  it('refuses a deleted client with the same answer', async () => {
    const { kit, authenticate, client, secret } = await registered();
    await new DeleteClient(kit.uow, kit.clock).execute({ id: client.id });
    await expect(authenticate.execute({ clientId: client.id, clientSecret: secret })).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('issues service tokens with the granted scopes only', async () => {
    const { kit, clients, client } = await registered();
    const issue = new IssueClientToken(kit.tokens, clients, kit.clock);
    await expect(issue.execute({ client, grantType: 'client_credentials' })).resolves.toMatchObject({ scope: 'a b', expiresIn: 900 });
    await expect(issue.execute({ client, grantType: 'client_credentials', scope: 'b' })).resolves.toMatchObject({ scope: 'b' });
    await expect(issue.execute({ client, grantType: 'client_credentials', scope: 'c' })).rejects.toMatchObject({ error: 'invalid_scope' });
    await expect(issue.execute({ client, grantType: 'password' })).rejects.toMatchObject({ error: 'unsupported_grant_type' });
    const { accessToken } = await issue.execute({ client, grantType: 'client_credentials' });
    await expect(kit.tokens.verify(accessToken)).resolves.toMatchObject({ token_type: 'service', sub: client.id, scope: 'a b' });
  });
});
