// Archive, adapters and dispatch as configured: what intake, the sweeper and replay share.
import type { Client } from '@temporalio/client';
import { createArchive } from '../activities/archive';
import { createDelivery } from '../intake/deliver';
import { createDispatcher } from '../intake/dispatch';
import { createSourceAdapters } from '../intake/sources';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';

export function createConfiguredDelivery(config: Config, client: Client, logger: Logger, archive = createArchive(config)) {
  return createDelivery({
    archive,
    adapters: createSourceAdapters(config.intake.sources),
    dispatch: createDispatcher(client, config.temporal.taskQueue, config.intake.dispatchTimeoutMs),
    logger,
    maxInflatedBytes: config.intake.maxInflatedBytes,
  });
}

