// Archive, decoder and dispatch as configured: the delivery intake, the sweeper, the re-scan and
// replay share.
import type { Client } from '@temporalio/client';
import { createArchive } from '../activities/archive';
import type { Archive } from '../activities/archive/types';
import { createDecoder, type Decoder } from '../intake/decoder';
import { createDelivery } from '../intake/deliver';
import { readSigmaRuleFiles } from '../intake/sigma';
import { createDispatcher } from '../intake/dispatch';
import type { Config } from '../lib/config';
import type { Dispatch } from '../lib/delivery';
import type { Logger } from '../lib/logger';

const decoders = new WeakMap<Config, Decoder>();

/**
 * The decoding threads and their bound, one set per configuration: where intake and the main worker
 * share a process (`vigil dev`, tests), the sweeper and re-scans wait in the same bound intake
 * admits to, so together they never decode more at once than configured.
 */
export function configuredDecoder(config: Config): Decoder {
  let decoder = decoders.get(config);
  if (!decoder) {
    decoder = createDecoder({
      sources: config.intake.sources,
      sigma: readSigmaRuleFiles(config.detections.sigma),
      maxInflatedBytes: config.intake.maxInflatedBytes,
      threads: config.intake.decodeThreads,
      maxDecodingBytes: config.intake.maxDecodingBytes,
      heapMb: config.intake.decodeHeapMb,
      timeoutMs: config.intake.decodeTimeoutMs,
    });
    decoders.set(config, decoder);
  }
  return decoder;
}

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
  const dispatch = createDispatcher(client, { taskQueue: config.temporal.taskQueue, timeoutMs: config.intake.dispatchTimeoutMs, logger });
  return createDelivery({ archive, decoder: configuredDecoder(config), dispatch: observe(dispatch), logger });
}
