// What parsing a JSON text would build, bounded before it is built. JSON.parse cannot be stopped once
// it runs (a thread's termination waits for it to return) and keeps its nesting outside the heap a
// thread's limit covers: a 257 KB gzip inflating to 255 MiB of `[[[[…` once took 5.7 GB and more than
// 200 s, and 255 MiB of `{},{},…` (85 million objects) ran past every deadline. One pass over the bytes,
// about 2 ns each, finds both before JSON.parse sees them.

/** Bounds on a JSON text: how deep it nests, and how many objects and arrays it holds. */
export interface JsonLimits {
  maxDepth: number;
  maxContainers: number;
}

/** No alert nests anywhere near this deep: a bound on the parser's own memory, not on real payloads. */
export const MAX_JSON_DEPTH = 10_000;

/**
 * Objects and arrays per MiB of a decoding thread's heap. One takes about 65 bytes once parsed, so
 * they fill at most a quarter of the heap (8.4 million in the default 2 GiB; a 256 MiB CloudTrail log
 * file holds about 1.3 million), leaving the rest to the text and its strings. It has to fit: V8 ends
 * the whole process, not the thread, when JSON.parse runs out of heap.
 */
export const CONTAINERS_PER_HEAP_MB = 4 * 1024;

export const jsonLimitsFor = (heapMb: number): JsonLimits => ({ maxDepth: MAX_JSON_DEPTH, maxContainers: heapMb * CONTAINERS_PER_HEAP_MB });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const [OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT] = [0x5b, 0x5d, 0x7b, 0x7d];

/**
 * Why the text is past a bound, or undefined when it is within them. Not a validator: whatever it
 * lets through, JSON.parse still judges.
 */
export function jsonShapeProblem(text: Uint8Array, { maxDepth, maxContainers }: JsonLimits): string | undefined {
  let depth = 0;
  let containers = 0;
  for (let at = 0; at < text.length; at++) {
    const byte = text[at]!;
    if (byte === QUOTE) {
      // On to the string's closing quote: one not escaped by an odd run of backslashes.
      for (;;) {
        at = text.indexOf(QUOTE, at + 1);
        if (at < 0) return undefined;
        let escapes = 0;
        while (text[at - 1 - escapes] === BACKSLASH) escapes++;
        if (escapes % 2 === 0) break;
      }
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) return `JSON nested deeper than ${maxDepth} levels`;
      if (++containers > maxContainers) return `JSON holding more than ${maxContainers} objects and arrays, more than a decoding thread's heap holds (intake.decodeHeapMb)`;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return undefined;
}
