// What the inventory (./inventory) and discovery (./hierarchy) share about Cloud Asset API answers:
// Google's error statuses, which of them are lasting, and protobuf Structs as plain JSON.

/** Google's error statuses that retrying will not change, in words. */
const LASTING_ERRORS: Record<string, string> = { PERMISSION_DENIED: 'access denied', NOT_FOUND: 'not found' };
/** The statuses this module names, by gRPC code. */
const GRPC_STATUS_NAMES: Record<number, string> = { 5: 'NOT_FOUND', 7: 'PERMISSION_DENIED', 8: 'RESOURCE_EXHAUSTED' };

/**
 * Google's status name and message of a failed call. Over gRPC the client rejects with the gRPC
 * code; over REST the auth client's fetch rejects any non-2xx answer with Google's JSON error body
 * (`{"error": {"code": 403, "status": "PERMISSION_DENIED", "message": …}}`) as the message.
 */
export function googleStatus(error: unknown): { status?: string; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  try {
    const body = JSON.parse(message) as { error?: { status?: unknown; message?: unknown } };
    if (typeof body.error?.status === 'string') return { status: body.error.status, message: typeof body.error.message === 'string' ? body.error.message : message };
  } catch {
    // Not a JSON body: a gRPC error.
  }
  const code = (error as { code?: unknown }).code;
  return { status: typeof code === 'number' ? GRPC_STATUS_NAMES[code] : undefined, message };
}

/** A failure that retrying will not cure (access denied, not found). */
export interface LastingFailure {
  status: string;
  /** The status in words (`access denied`). */
  words: string;
  /** Google's own message. */
  message: string;
}

/** The failure as a lasting one; undefined when retrying may cure it, so the caller throws it on. */
export function lastingFailure(error: unknown): LastingFailure | undefined {
  const { status, message } = googleStatus(error);
  const words = status ? LASTING_ERRORS[status] : undefined;
  return status && words ? { status, words, message } : undefined;
}

/** A protobuf Struct as the client hands it over (`{fields: {k: {kind, stringValue…}}}`). */
interface StructValue {
  kind?: string | null;
  nullValue?: unknown;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: Struct | null;
  listValue?: { values?: StructValue[] | null } | null;
}
export interface Struct {
  fields?: Record<string, StructValue> | null;
}

/** A protobuf Struct → plain JSON. */
export function structToJson(struct: Struct | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([key, value]) => [key, valueToJson(value)]));
}

function valueToJson(value: StructValue): unknown {
  // The client fills every member with its default, so `kind` (the oneof's case) says which is set.
  switch (value.kind) {
    case 'structValue':
      return structToJson(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(valueToJson);
    case 'stringValue':
      return value.stringValue;
    case 'numberValue':
      return value.numberValue;
    case 'boolValue':
      return value.boolValue;
    default:
      return null;
  }
}
