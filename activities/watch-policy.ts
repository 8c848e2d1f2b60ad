// How an investigation watches an open exposure, from configuration (which workflow code cannot read).
import { msToNumber } from '@temporalio/common/lib/time.js';
import type { Severity } from '../lib/alert';
import type { ResponseSettings, WatchSettings } from '../lib/config';

export interface WatchPolicy {
  enabled: boolean;
  everyMs: number;
  cleanChecks: number;
  autoClose: boolean;
  maxAge: string;
  maxAgeMs: number;
  checksPerRun: number;
  /** How long a requested remediation waits for its approval (`response.planTtl`); absent in histories recorded before. */
  planTtlMs?: number;
}

export function createWatchActivities(settings: WatchSettings, response: Pick<ResponseSettings, 'planTtl'>) {
  return {
    async watchPolicy({ severity }: { severity: Severity }): Promise<WatchPolicy> {
      const { enabled, every, cleanChecks, autoClose, maxAge, checksPerRun } = settings;
      return { enabled, everyMs: msToNumber(every[severity]), cleanChecks, autoClose, maxAge, maxAgeMs: msToNumber(maxAge), checksPerRun, planTtlMs: msToNumber(response.planTtl) };
    },
  };
}
