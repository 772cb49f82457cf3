import type { Router } from '@koa/router';
import { respond } from '../envelope';
import type { HttpDeps } from '../http-deps';
import type { HttpState } from '../http-state';
import { bearerAuth, principalOf } from '../middleware/bearer-auth';
import { presentUser } from '../presenters/user.presenter';

export function registerUserRoutes(router: Router<HttpState>, deps: HttpDeps): void {
  const bearer = bearerAuth(deps.useCases.validateAccessToken);

  router.get('/api/v1/users/me', bearer, async (ctx) => {
    const { user: principal } = principalOf(ctx);
    const user = await deps.useCases.getCurrentUser.execute({ userId: principal.id });
    respond(ctx, 200, { user: presentUser(user) });
  });
}
