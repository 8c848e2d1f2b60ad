// The registry of alert sources: the one place a new source is added.
import { genericSource } from './generic';
import type { SourceAdapter } from './types';

export const sourceAdapters: readonly SourceAdapter[] = [genericSource];

/** The pseudo-source that picks an adapter from the payload's shape. */
export const AUTO_SOURCE = 'auto';

export function findSource(name: string): SourceAdapter | undefined {
  return sourceAdapters.find((adapter) => adapter.name === name);
}

export function knownSourceNames(): string[] {
  return [...sourceAdapters.map((adapter) => adapter.name), AUTO_SOURCE];
}
