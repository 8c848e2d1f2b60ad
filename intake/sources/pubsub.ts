// Google Pub/Sub push envelopes, shared by the GCP sources (SCC notifications and log sinks both
// deliver through a push subscription):
//   {"message": {"data": "<base64 JSON>", "attributes": {}, "messageId": "…", "publishTime": "…"},
//    "subscription": "projects/P/subscriptions/S"}
// Pub/Sub writes each message field twice, camelCase and snake_case (`message_id`, `publish_time`).
import { isRecord, str } from './util';

/** Whether the payload has the shape of a push envelope, whatever its data holds. */
export function isPubSubPushEnvelope(payload: unknown): payload is { message: Record<string, unknown> } {
  if (!isRecord(payload) || !isRecord(payload.message)) return false;
  const message = payload.message;
  if (typeof message.data !== 'string') return false;
  // `data` alone is too common a key; a real push also names its subscription or message id.
  return (
    str(payload.subscription) !== undefined ||
    str(message.messageId) !== undefined ||
    str(message.message_id) !== undefined
  );
}

/**
 * The JSON a push envelope carries in `message.data`, or undefined when the payload is not an
 * envelope or its data is not base64 of JSON (each GCP source then says what it expected).
 */
export function decodePubSubPush(payload: unknown): unknown {
  if (!isPubSubPushEnvelope(payload)) return undefined;
  const data = payload.message.data as string;
  // Buffer ignores characters outside the alphabet, so check first that it is base64 at all.
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(data.trim())) return undefined;
  try {
    return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The payload itself, or what its push envelope carries: the GCP sources accept both. */
export function unwrapPubSub(payload: unknown): unknown {
  return isPubSubPushEnvelope(payload) ? decodePubSubPush(payload) : payload;
}
