// Configuration profiles: `profiles: { staging: {...} }` in the configuration file, selected with
// `vigil --profile staging …` or VIGIL_PROFILE. The selected profile is deep-merged over the top
// level (mappings merge key by key, unless of another `kind`; lists and values replace), and whatever says where Vigil keeps
// its state and whose alerts it takes is made the profile's own unless the profile sets it, so that
// staging never writes production's data by accident:
//
// - `dataDir` becomes `<dataDir>/profiles/<name>` (the archive, the local tracker, the token);
// - `temporal.namespace` becomes `<namespace>-<name>`;
// - an S3 `archive` gets `<name>/` appended to its prefix;
// - `intake.mirror` is not inherited (staging would mirror to itself);
// - a GitHub tracker or `intake.queues` are not inherited silently: the profile must set its own
//   (another repository, `{kind: local}`, `[]`), else staging would comment on production's issues
//   or take production's messages off its queues.
import type { z } from 'zod';

/** Lower-case letters, digits and inner hyphens: the name goes into a namespace and a folder name. */
const profileNamePattern = /^[a-z][a-z\d-]{0,30}[a-z\d]$|^[a-z]$/;

type Mapping = Record<string, unknown>;

const isMapping = (value: unknown): value is Mapping => typeof value === 'object' && value !== null && !Array.isArray(value);

export interface SelectedProfile {
  /** The settings to validate: the top level with the profile merged over it. */
  settings: Mapping;
  /** Problems with the profiles themselves (an unknown name, a profile that is not a mapping). */
  problems: string[];
  /** Names a validation issue by where its value was written: `profiles.<name>.<key>` when the profile set it. */
  locate(issue: z.core.$ZodIssue): z.core.$ZodIssue[];
}

/** Mappings merge key by key, except one of another `kind` (an archive in S3 made local), which replaces. */
function deepMerge(base: Mapping, over: Mapping): Mapping {
  const merged: Mapping = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const under = base[key];
    const sameKind = isMapping(value) && isMapping(under) && (!('kind' in value) || value.kind === under.kind);
    merged[key] = sameKind ? deepMerge(under as Mapping, value as Mapping) : value;
  }
  return merged;
}

/** Whether the profile sets the value at this path, or a value above it. */
function sets(profile: Mapping, keyPath: readonly PropertyKey[]): boolean {
  let node: unknown = profile;
  for (const key of keyPath) {
    if (!isMapping(node) || !(String(key) in node)) return false;
    node = node[String(key)];
    if (!isMapping(node)) return true;
  }
  return true;
}

const child = (value: unknown, key: string): unknown => (isMapping(value) ? value[key] : undefined);

/**
 * `raw`: the file's top level, environment overrides applied (the `profiles` key still in it).
 * `name`: the selected profile, or undefined for the top level alone.
 */
export function selectProfile(raw: Mapping, name: string | undefined): SelectedProfile {
  const { profiles = {}, ...base } = raw;
  const unchanged: SelectedProfile = { settings: base, problems: [], locate: (issue) => [issue] };
  if (!isMapping(profiles)) return { ...unchanged, problems: ['profiles: expected a mapping of profile names to settings, for example {staging: {…}}'] };
  const badNames = Object.keys(profiles).filter((key) => !profileNamePattern.test(key));
  const problems = badNames.map((key) => `profiles.${key}: a profile name is lower-case letters, digits and inner hyphens (it goes into a namespace and a folder name)`);
  if (name === undefined || name === '') return { ...unchanged, problems };
  const profile = profiles[name];
  if (profile === undefined) {
    const defined = Object.keys(profiles);
    return {
      ...unchanged,
      problems: [...problems, `profile ${JSON.stringify(name)} is not defined: ${defined.length > 0 ? `the file defines ${defined.join(', ')}` : 'the file defines no profiles (add `profiles: {<name>: {…}}`)'}`],
    };
  }
  if (!isMapping(profile)) return { ...unchanged, problems: [...problems, `profiles.${name}: expected a mapping of settings`] };

  const settings = deepMerge(base, profile);
  const at = `profiles.${name}`;
  if (!sets(profile, ['dataDir'])) settings.dataDir = `${typeof base.dataDir === 'string' ? base.dataDir : '.data'}/profiles/${name}`;
  if (!sets(profile, ['temporal', 'namespace'])) {
    const namespace = child(base.temporal, 'namespace');
    settings.temporal = { ...(isMapping(settings.temporal) ? settings.temporal : {}), namespace: `${typeof namespace === 'string' ? namespace : 'default'}-${name}` };
  }
  const archive = settings.archive;
  if (isMapping(archive) && archive.kind === 's3' && !sets(profile, ['archive'])) {
    settings.archive = { ...archive, prefix: `${typeof archive.prefix === 'string' ? archive.prefix : ''}${name}/` };
  }
  if (isMapping(settings.intake) && !sets(profile, ['intake', 'mirror'])) {
    const intake = { ...settings.intake };
    delete intake.mirror;
    settings.intake = intake;
  }
  if (child(base.tracker, 'kind') === 'github' && !sets(profile, ['tracker'])) {
    problems.push(`${at}.tracker: set the profile's own tracker (another repository, or {kind: local}): the top level's GitHub repository would get this profile's issues`);
  }
  const queues = child(base.intake, 'queues');
  if (Array.isArray(queues) && queues.length > 0 && !sets(profile, ['intake', 'queues'])) {
    problems.push(`${at}.intake.queues: set the profile's own queues ([] for none): the top level's would have this profile take production's messages off them`);
  }

  return {
    settings,
    problems,
    locate(issue) {
      // One issue per unknown key: each may come from the profile or the top level.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      return keys.map((key) => {
        const keyPath = [...issue.path, ...(key === undefined ? [] : [key])];
        const located = sets(profile, keyPath) ? { ...issue, path: ['profiles', name, ...issue.path] } : issue;
        return key === undefined ? located : ({ ...located, keys: [key] } as z.core.$ZodIssue);
      });
    },
  };
}
