// MITRE ATT&CK tags as rules write them (Sigma's `attack.t1562.001`, `attack.defense-evasion`,
// `attack.g0016`, `attack.s0002`): the label an issue gets and the page that explains each.

export interface AttackTag {
  /** `T1562.001`, `defense-evasion`, `G0016`, `S0002`. */
  name: string;
  url?: string;
}

/** Enterprise ATT&CK's tactics: their pages are named by id, which the tags do not carry. */
const tacticIds: Record<string, string> = {
  reconnaissance: 'TA0043',
  'resource-development': 'TA0042',
  'initial-access': 'TA0001',
  execution: 'TA0002',
  persistence: 'TA0003',
  'privilege-escalation': 'TA0004',
  'defense-evasion': 'TA0005',
  'credential-access': 'TA0006',
  discovery: 'TA0007',
  'lateral-movement': 'TA0008',
  collection: 'TA0009',
  exfiltration: 'TA0010',
  'command-and-control': 'TA0011',
  impact: 'TA0040',
};

const SITE = 'https://attack.mitre.org';

/** The ATT&CK meaning of a tag, or undefined for other tags (`cve.…`, `detection.…`, `car.…`). */
export function attackTag(tag: string): AttackTag | undefined {
  const match = /^attack\.(.+)$/i.exec(tag.trim());
  if (!match) return undefined;
  const value = match[1]!.toLowerCase();
  const technique = /^t(\d{4})(?:\.(\d{3}))?$/.exec(value);
  if (technique) {
    const [, id, sub] = technique;
    return { name: `T${id}${sub ? `.${sub}` : ''}`, url: `${SITE}/techniques/T${id}/${sub ? `${sub}/` : ''}` };
  }
  const entity = /^([gs])(\d{4})$/.exec(value);
  if (entity) {
    const [, kind, id] = entity;
    const name = `${kind!.toUpperCase()}${id}`;
    return { name, url: `${SITE}/${kind === 'g' ? 'groups' : 'software'}/${name}/` };
  }
  // Older rules write tactics with underscores (`defense_evasion`).
  const tactic = value.replaceAll('_', '-');
  if (!/^[a-z][a-z-]*$/.test(tactic)) return undefined;
  return { name: tactic, ...(tacticIds[tactic] ? { url: `${SITE}/tactics/${tacticIds[tactic]}/` } : {}) };
}
