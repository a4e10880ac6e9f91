import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from './api-key.guard.js';
import type { AuthContext } from './org-id.js';

/** The authenticated caller of this request (set by ApiKeyGuard). */
export const CurrentAuth = createParamDecorator((_data: unknown, context: ExecutionContext): AuthContext => {
  const auth = context.switchToHttp().getRequest<AuthenticatedRequest>().auth;
  // Reaching a handler without auth means a route is wired wrong; fail loudly, not open.
  if (auth === undefined) throw new Error('CurrentAuth used on a route the API-key guard did not authenticate');
  return auth;
});
