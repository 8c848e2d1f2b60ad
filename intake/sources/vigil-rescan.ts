// Vigil's own re-scan findings: alerts in the generic schema that the scheduled re-scan archives
// before dispatching them, read back from the archive by the sweeper and replay like any delivery.
import { RESCAN_SOURCE } from '../../lib/alert';
import { genericSource } from './generic';
import type { SourceAdapter } from './types';

export const rescanSource: SourceAdapter = {
  name: RESCAN_SOURCE,
  description: "Vigil's scheduled re-scan findings (the generic schema)",
  // Never chosen by `auto`: a payload of unknown origin is not one of Vigil's own findings.
  detect: () => false,
  parse: (payload) => genericSource.parse(payload),
};
