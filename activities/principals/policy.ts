// Whether an IAM policy makes its holder an administrator: AWS's AdministratorAccess, or any policy
// document allowing every action on every resource. Pure, so it is tested without IAM.

export const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess';

/** An AWS-managed policy (`arn:aws:iam::aws:policy/…`): judged by its name, its document is AWS's. */
export const isAwsManaged = (policyArn: string) => /^arn:aws[\w-]*:iam::aws:policy\//.test(policyArn);

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

const readJson = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const decoded = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
};

/**
 * True when a statement of the document allows `*` (or `*:*`) on `*`. IAM hands documents over
 * URL-encoded; a document that cannot be read grants nothing here. Conditions are not weighed: a
 * conditional `*` on `*` is still worth a person's look.
 */
export function grantsEverything(document: string | undefined): boolean {
  if (!document) return false;
  const parsed = readJson(document) ?? readJson(decoded(document));
  const statements = list((parsed as { Statement?: unknown } | null)?.Statement);
  return statements.some((statement) => {
    if (typeof statement !== 'object' || statement === null) return false;
    const { Effect, Action, Resource } = statement as Record<string, unknown>;
    return Effect === 'Allow' && list(Action).some((action) => action === '*' || action === '*:*') && list(Resource).includes('*');
  });
}
