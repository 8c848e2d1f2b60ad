// The registry of archive backends: the one place a new backend is added.
import path from 'node:path';
import type { Config } from '../../lib/config';
import { alertsArchived, archiveFailures, countingCalls } from '../../lib/metrics';
import { createLocalArchive, localBlobStore } from './local';
import type { BlobStore, RecordStore } from './records';
import { createObjectStore, type ObjectStore } from './objects';
import { createS3Archive, s3BlobStore } from './s3';
import type { Archive } from './types';

/** `objects`: records of CloudTrail log files read from their trail bucket are read back from there. */
export function createArchive(config: Config, objects: ObjectStore = createObjectStore()): Archive {
  return counted(backendArchive(config, objects));
}

function backendArchive(config: Config, objects: ObjectStore): Archive {
  const settings = config.archive;
  switch (settings.kind) {
    case 'local':
      return createLocalArchive(path.join(config.dataDir, 'archive'), objects.read);
    case 's3':
      return createS3Archive(settings, undefined, objects.read);
  }
}

/** Every backend's failures counted by operation, and the records it wrote by source (a resent body is not one). */
function counted(archive: Archive): Archive {
  const observed = countingCalls(archive, { onError: (operation) => archiveFailures.inc({ operation }) });
  return {
    ...observed,
    put: (input, options) =>
      observed.put(input, {
        onCreated: () => {
          alertsArchived.inc({ source: input.source });
          options?.onCreated?.();
        },
      }),
  };
}

/**
 * Where evidence files go when they are linked by URL rather than committed: beside the archive
 * (`<dataDir>/artifacts`, or the archive's bucket under `<prefix>artifacts/`).
 */
export function createArtifactStore(config: Config): BlobStore {
  return namedStore(config, 'artifacts');
}

/**
 * The response's audit records (`<dataDir>/audit`, or the archive's bucket under `<prefix>audit/`):
 * one JSON per audited step, kept beside the alerts they answer.
 */
export function createAuditStore(config: Config): BlobStore {
  return namedStore(config, 'audit');
}

/** Accepted risks the re-scan honours (`<dataDir>/accepted-risks`, or under `<prefix>accepted-risks/`); one ends by its removal. */
export function createAcceptedRiskStore(config: Config): RecordStore {
  return namedStore(config, 'accepted-risks');
}

function namedStore(config: Config, name: string): RecordStore {
  const settings = config.archive;
  switch (settings.kind) {
    case 'local':
      return localBlobStore(path.join(config.dataDir, name));
    case 's3':
      return s3BlobStore({ ...settings, prefix: `${settings.prefix}${name}/` });
  }
}
