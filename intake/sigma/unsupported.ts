// A rule Vigil cannot evaluate faithfully is skipped with its reason, never half-applied: the
// compiler throws this, and the document's compilation turns it into a SkippedRule.

/** Something in a rule that Vigil does not evaluate; the message is the skip reason. */
export class Unsupported extends Error {
  override readonly name = 'Unsupported';
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A value for the reason texts: rules are configuration, so they are quoted as written. */
export const quote = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value));
