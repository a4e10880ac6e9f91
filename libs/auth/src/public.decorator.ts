import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'agentplane:public';

/** Marks a route as reachable without an API key. Keep this list short: health checks only. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
