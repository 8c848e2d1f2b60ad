// ATT&CK tags as Sigma rules write them: the names issues are labelled with and the pages linked.
import { describe, expect, it } from 'vitest';
import { attackTag } from '../../lib/attack';
import { alertLabels } from '../../lib/render/alert-summary';
import { configSchema } from '../../lib/config';
import { emptyActors, emptyNetwork, type NormalizedAlert } from '../../lib/alert';

describe('ATT&CK tags', () => {
  it('names techniques, sub-techniques, tactics, groups and software, each with its page', () => {
    expect(attackTag('attack.t1562.001')).toEqual({ name: 'T1562.001', url: 'https://attack.mitre.org/techniques/T1562/001/' });
    expect(attackTag('attack.T1098')).toEqual({ name: 'T1098', url: 'https://attack.mitre.org/techniques/T1098/' });
    expect(attackTag('attack.defense-evasion')).toEqual({ name: 'defense-evasion', url: 'https://attack.mitre.org/tactics/TA0005/' });
    expect(attackTag('attack.privilege_escalation')).toEqual({ name: 'privilege-escalation', url: 'https://attack.mitre.org/tactics/TA0004/' });
    expect(attackTag('attack.g0016')).toEqual({ name: 'G0016', url: 'https://attack.mitre.org/groups/G0016/' });
    expect(attackTag('attack.s0002')).toEqual({ name: 'S0002', url: 'https://attack.mitre.org/software/S0002/' });
  });

  it('keeps a tactic it has no page for as a name, and ignores what is not ATT&CK', () => {
    expect(attackTag('attack.stealth')).toEqual({ name: 'stealth' });
    expect(attackTag('cve.2021-44228')).toBeUndefined();
    expect(attackTag('detection.threat-hunting')).toBeUndefined();
    expect(attackTag('attack.t15')).toBeUndefined();
    expect(attackTag('attack.[x](https://evil.example)')).toBeUndefined();
  });

  it("labels an issue with the ATT&CK names of every rule that found the alert, once each", () => {
    const alert: NormalizedAlert = {
      source: 'cloudtrail',
      kind: 'actor',
      fingerprint: 'f',
      title: 't',
      severity: 'medium',
      resources: [],
      network: emptyNetwork(),
      actors: emptyActors(),
      archive: { id: 'x', sha256: 'y', receivedAt: '2026-11-30T00:00:00Z' },
      detections: [
        { engine: 'built-in', id: 'cloudtrail-logging-stopped', title: 'Logging stopped', level: 'high' },
        { engine: 'sigma', id: 'a', title: 'A', level: 'medium', tags: ['attack.defense-evasion', 'attack.t1562.001', 'cve.2020-1'] },
        { engine: 'sigma', id: 'b', title: 'B', level: 'low', tags: ['attack.defense_evasion'] },
      ],
    };
    const names = configSchema.parse({}).tracker.labels;
    expect(alertLabels(alert, names)).toEqual(['vigil', 'source:cloudtrail', 'severity:medium', 'kind:actor', 'attack:defense-evasion', 'attack:T1562.001']);
  });
});
