// JSON answers of HTTP services (Elasticsearch, Docker, Kubernetes), read leniently: a page that is
// not JSON object is simply not that service.
import type { HttpAnswer } from '../http-client';

export type JsonObject = Record<string, unknown>;

export function jsonObject(answer: HttpAnswer): JsonObject | undefined {
  if (answer.truncated) return undefined;
  try {
    const value: unknown = JSON.parse(answer.body.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

export const stringAt = (object: JsonObject | undefined, ...path: string[]): string | null => {
  let value: unknown = object;
  for (const key of path) value = value && typeof value === 'object' ? (value as JsonObject)[key] : undefined;
  return typeof value === 'string' ? value : null;
};
