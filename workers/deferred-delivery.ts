// The main worker's delivery, made at its first use. Its sweeper and re-scans deliver only now and
// then (a pass with nothing pending delivers nothing), and the decoder behind a delivery (every source
// adapter, the Sigma rules, the thread pool) holds memory from the moment its modules load: an idle
// worker need not hold it. The first body loads it, as intake's process does at its start; where intake
// shares the process (`vigil dev`), both use the one decoder of the configuration.
import type { Client } from '@temporalio/client';
import type { Archive } from '../activities/archive/types';
import type { Config } from '../lib/config';
import type { Delivery } from '../lib/delivery';
import type { Logger } from '../lib/logger';

export function createDeferredDelivery(config: Config, client: Client, logger: Logger, archive: Archive): Pick<Delivery, 'deliver' | 'redeliver'> {
  let made: Promise<Delivery> | undefined;
  const delivery = () => {
    if (!made) {
      const making = import('./delivery').then(({ createConfiguredDelivery }) => createConfiguredDelivery(config, client, logger, { archive }));
      // A delivery that could not be made (a Sigma rule file unreadable) fails the activity, which
      // Temporal retries: the next attempt makes it again.
      making.catch(() => {
        if (made === making) made = undefined;
      });
      made = making;
    }
    return made;
  };
  return {
    deliver: async (record, body) => (await delivery()).deliver(record, body),
    redeliver: async (record) => (await delivery()).redeliver(record),
  };
}
