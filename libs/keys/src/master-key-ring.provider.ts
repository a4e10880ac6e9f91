import type { Provider } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#agentplane/config';
import { LOGGER, type Logger } from '#agentplane/logging';
import { MasterKeyFile } from './master-key-file.js';
import { MasterKeyRing } from './master-key-ring.js';

/**
 * The key ring from AGENTPLANE_MASTER_KEYS or, with embedded storage and no keys configured,
 * from the data folder's key file (created on first start, with a warning).
 */
export const masterKeyRingProvider: Provider = {
  provide: MasterKeyRing,
  inject: [APP_CONFIG, LOGGER],
  useFactory: async (config: AppConfig, logger: Logger): Promise<MasterKeyRing> => {
    if (config.masterKeys.length > 0) return new MasterKeyRing(config.masterKeys, 'AGENTPLANE_MASTER_KEYS');
    if (config.storage.kind !== 'embedded') {
      // loadConfig already refuses this; kept so no path can run without keys.
      throw new Error('AGENTPLANE_MASTER_KEYS is required when DATABASE_URL is set');
    }
    const file = new MasterKeyFile(config.storage.dataDir);
    const { keys, created } = await file.loadOrCreate();
    if (await file.isExposed()) {
      await file.restrictMode();
      logger.warn({ path: file.path }, 'the master key file was readable by others; its mode is now 0600');
    }
    // Loud when the key is born (it must be backed up now); a reminder at info level afterwards.
    logger[created ? 'warn' : 'info'](
      { path: file.path, created, active_master_key_id: keys[0]!.id },
      (created ? 'generated a master key' : 'using the master key file') +
        ' because AGENTPLANE_MASTER_KEYS is not set: back the file up with the data folder, and set ' +
        'AGENTPLANE_MASTER_KEYS in production',
    );
    return new MasterKeyRing(keys, file.path);
  },
};
