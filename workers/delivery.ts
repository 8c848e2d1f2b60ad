// Archive, adapters and dispatch as configured: the delivery intake, the sweeper, the re-scan and
// replay share.
import type { Client } from '@temporalio/client';
import { createArchive } from '../activities/archive';
import type { Archive } from '../activities/archive/types';
import { createDelivery } from '../intake/deliver';
import { createDispatcher, type DispatcherOptions } from '../intake/dispatch';
import { createSourceAdapters } from '../intake/sources';
import type { Config } from '../lib/config';
import type { Dispatch } from '../lib/delivery';
import type { Logger } from '../lib/logger';

export interface ConfiguredDeliveryOptions {
  archive?: Archive;
  recheckRunning?: DispatcherOptions['recheckRunning'];
  /** Wraps the dispatch (replay counts what it started). */
  observe?: (dispatch: Dispatch) => Dispatch;
}

export function createConfiguredDelivery(
  config: Config,
  client: Client,
  logger: Logger,
  { archive = createArchive(config), recheckRunning, observe = (dispatch) => dispatch }: ConfiguredDeliveryOptions = {},
) {
  const dispatch = createDispatcher(client, { taskQueue: config.temporal.taskQueue, timeoutMs: config.intake.dispatchTimeoutMs, recheckRunning });
  return createDelivery({
    archive,
    adapters: createSourceAdapters(config.intake.sources),
    dispatch: observe(dispatch),
    logger,
    maxInflatedBytes: config.intake.maxInflatedBytes,
  });
}
