// The registry of archive backends: the one place a new backend is added.
import path from 'node:path';
import type { Config } from '../../lib/config';
import { createLocalArchive } from './local';
import { createS3Archive } from './s3';
import type { Archive } from './types';

export function createArchive(config: Config): Archive {
  const settings = config.archive;
  switch (settings.kind) {
    case 'local':
      return createLocalArchive(path.join(config.dataDir, 'archive'));
    case 's3':
      return createS3Archive(settings);
  }
}
