// Archive, adapters and dispatch as configured: the delivery intake, the sweeper, the re-scan and
// replay share.
import type { Client } from '@temporalio/client';
import { createArchive } from '../activities/archive';
import type { Archive } from '../activities/archive/types';
import { createDelivery } from '../intake/deliver';
import { createDispatcher } from '../intake/dispatch';
import { createSourceAdapters } from '../intake/sources';
import type { Config } from '../lib/config';
import type { Dispatch } from '../lib/delivery';
import type { Logger } from '../lib/logger';

interface ConfiguredDeliveryOptions {
  archive?: Archive;
  /** Wraps the dispatch (replay counts what it started). */
  observe?: (dispatch: Dispatch) => Dispatch;
}

export function createConfiguredDelivery(
  config: Config,
  client: Client,
  logger: Logger,
  { archive = createArchive(config), observe = (dispatch) => dispatch }: ConfiguredDeliveryOptions = {},
) {
  const dispatch = createDispatcher(client, { taskQueue: config.temporal.taskQueue, timeoutMs: config.intake.dispatchTimeoutMs });
  return createDelivery({
    archive,
    adapters: createSourceAdapters(config.intake.sources),
    dispatch: observe(dispatch),
    logger,
    maxInflatedBytes: config.intake.maxInflatedBytes,
  });
}
