// Configuration profiles: `profiles: { staging: {...} }` in the configuration file, selected with
// `vigil --profile staging …` or VIGIL_PROFILE. The selected profile is deep-merged over the top
// level (mappings merge key by key, unless of another `kind`; lists and values replace), and whatever
// says where Vigil keeps its state and whose alerts it takes is made the profile's own when the
// merged result leaves it the same as the top level's (unset, partly set or set to the same value),
// so that staging never writes production's data by accident:
//
// - `dataDir` becomes `<dataDir>/profiles/<name>` (the archive, the local tracker, the token);
// - `temporal.namespace` becomes `<namespace>-<name>`;
// - an S3 `archive` in the same bucket, prefix and endpoint gets `<name>/` appended to its prefix;
// - `intake.mirror` to the top level's URL is dropped (staging would mirror to itself);
// - `response.dryRun` is true unless the profile sets it (staging must not change production's cloud);
// - the same GitHub repository or SQS queue as the top level is an error: the profile must set its
//   own (another repository, `{kind: local}`, `[]`), else staging would comment on production's
//   issues or take production's messages off its queues.
// Environment overrides apply after this, to the result (lib/config.ts), and are never suffixed.
import path from 'node:path';
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

/** Whether two `dataDir` values name the same folder (unset is the default, `.data`). */
function sameDataDir(a: unknown, b: unknown): boolean {
  const folder = (value: unknown) => path.normalize(typeof value === 'string' ? value : '.data').replace(/(.)\/+$/, '$1');
  return folder(a) === folder(b);
}

/** Whether both are S3 archives in the same place: bucket, prefix and endpoint (the region does not move a bucket). */
function sameS3Location(archive: Mapping, base: unknown): boolean {
  if (archive.kind !== 's3' || child(base, 'kind') !== 's3') return false;
  const location = (value: unknown) => JSON.stringify([child(value, 'bucket'), child(value, 'prefix') ?? '', child(value, 'endpoint')]);
  return location(archive) === location(base);
}

/** `owner/repo` when both trackers are GitHub's on the same repository (GitHub's names ignore case). */
function sameGitHubRepository(tracker: unknown, base: unknown): string | undefined {
  if (child(tracker, 'kind') !== 'github' || child(base, 'kind') !== 'github') return undefined;
  const repository = (value: unknown) => {
    const github = child(value, 'github');
    return `${String(child(github, 'owner'))}/${String(child(github, 'repo'))}`;
  };
  const where = (value: unknown) => `${String(child(child(value, 'github'), 'baseUrl') ?? 'https://api.github.com').replace(/\/+$/, '')} ${repository(value)}`.toLowerCase();
  return where(tracker) === where(base) ? repository(base) : undefined;
}

/** The queue URLs of an `intake.queues` list. */
const queueUrls = (queues: unknown): string[] => (Array.isArray(queues) ? queues.map((queue) => child(queue, 'queueUrl')).filter((url): url is string => typeof url === 'string') : []);

/**
 * `raw`: the file's top level (the `profiles` key still in it), before environment overrides: those
 * apply to the result, over the profile.
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
  // Decided on the merged result, not on which keys the profile wrote: `archive: {region: …}` or
  // `tracker: {labels: …}` sets a key and still leaves production's bucket or repository in place.
  if (sameDataDir(settings.dataDir, base.dataDir)) settings.dataDir = `${typeof base.dataDir === 'string' ? base.dataDir : '.data'}/profiles/${name}`;
  const namespace = child(base.temporal, 'namespace') ?? 'default';
  if ((child(settings.temporal, 'namespace') ?? 'default') === namespace) {
    settings.temporal = { ...(isMapping(settings.temporal) ? settings.temporal : {}), namespace: `${String(namespace)}-${name}` };
  }
  const archive = settings.archive;
  if (isMapping(archive) && sameS3Location(archive, base.archive)) {
    settings.archive = { ...archive, prefix: `${typeof archive.prefix === 'string' ? archive.prefix : ''}${name}/` };
  }
  // Staging mirroring to production's mirror target would mirror to itself.
  const mirror = child(settings.intake, 'mirror');
  if (mirror !== undefined && child(mirror, 'url') === child(child(base.intake, 'mirror'), 'url')) {
    const intake = { ...(settings.intake as Mapping) };
    delete intake.mirror;
    settings.intake = intake;
  }
  // Staging fed production's alerts must not change production's cloud resources.
  if (!sets(profile, ['response', 'dryRun'])) settings.response = { ...(isMapping(settings.response) ? settings.response : {}), dryRun: true };
  const repository = sameGitHubRepository(settings.tracker, base.tracker);
  if (repository) {
    problems.push(`${at}.tracker: set the profile's own tracker (another repository, or {kind: local}): it would use the top level's GitHub repository ${repository} and write this profile's issues there`);
  }
  const sharedQueues = queueUrls(child(settings.intake, 'queues')).filter((url) => queueUrls(child(base.intake, 'queues')).includes(url));
  if (sharedQueues.length > 0) {
    problems.push(`${at}.intake.queues: set the profile's own queues ([] for none): it would read the top level's ${sharedQueues.join(', ')} and take production's messages off them`);
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
