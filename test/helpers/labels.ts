// The label names Vigil uses by default (lib/config.ts), for tests that build a tracker directly.
import type { LabelNames } from '../../lib/config';

export const defaultLabels: LabelNames = {
  base: 'vigil',
  sourcePrefix: 'source:',
  severityPrefix: 'severity:',
  kindPrefix: 'kind:',
  attackPrefix: 'attack:',
  exposureOpen: 'exposure:open',
  exposureUnconfirmed: 'exposure:unconfirmed',
  exposureRemediated: 'exposure:remediated',
  failed: 'vigil:failed',
  suppress: 'vigil:suppress',
  riskAccepted: 'risk:accepted',
};
