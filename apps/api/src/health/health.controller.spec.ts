import type { DatabaseHealth } from '#agentplane/db';
import { CommonError, CommonErrorCode } from '#agentplane/errors';
import { HealthController } from './health.controller.js';

describe('HealthController', () => {
  const controllerWith = (healthy: boolean) =>
    new HealthController({ isHealthy: () => Promise.resolve(healthy) } as unknown as DatabaseHealth);

  it('answers ok when the database answers', async () => {
    await expect(controllerWith(true).check()).resolves.toEqual({ status: 'ok' });
  });

  it('raises database_unavailable (503) when it does not', async () => {
    await expect(controllerWith(false).check()).rejects.toEqual(
      new CommonError(CommonErrorCode.DatabaseUnavailable, 'The database did not answer.'),
    );
  });
});
