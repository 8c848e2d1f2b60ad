// A 64-bit difference hash of a screenshot: the image shrunk to 9×8 grey pixels, one bit per pair
// of neighbours (is the left one brighter?). Re-renders of the same page give the same or a nearly
// equal hash where the PNG bytes differ; the watching work compares hashes by Hamming distance (lib/finding.ts).
// The browser decodes and shrinks the PNG, so no image library is needed.
import type { BrowserPool } from './browser-pool';

/** The canvas API of the browser page this runs in (the project's types describe Node only). */
interface CanvasGlobals {
  createImageBitmap(image: Blob, options: { resizeWidth: number; resizeHeight: number; resizeQuality: 'high' }): Promise<unknown>;
  OffscreenCanvas: new (width: number, height: number) => {
    getContext(kind: '2d'): { drawImage(image: unknown, x: number, y: number): void; getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray } };
  };
}

/**
 * Runs in the browser: plain code only, nothing from the module around it, and no named inner
 * functions (the TypeScript loaders wrap those in a helper the page does not have).
 */
async function differenceHash(pngBase64: string): Promise<string> {
  const page = globalThis as unknown as CanvasGlobals;
  const bytes = Uint8Array.from(atob(pngBase64), (char) => char.charCodeAt(0));
  const bitmap = await page.createImageBitmap(new Blob([bytes], { type: 'image/png' }), { resizeWidth: 9, resizeHeight: 8, resizeQuality: 'high' });
  const canvas = new page.OffscreenCanvas(9, 8).getContext('2d');
  canvas.drawImage(bitmap, 0, 0);
  const { data } = canvas.getImageData(0, 0, 9, 8);
  const grey: number[] = [];
  for (let at = 0; at < data.length; at += 4) grey.push(0.299 * data[at]! + 0.587 * data[at + 1]! + 0.114 * data[at + 2]!);
  let hex = '';
  for (let y = 0; y < 8; y++) {
    let byte = 0;
    for (let x = 0; x < 8; x++) byte = (byte << 1) | (grey[y * 9 + x]! > grey[y * 9 + x + 1]! ? 1 : 0);
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}

/** The difference hash of a PNG, as 16 hex digits. */
export function imageHash(pool: BrowserPool, png: Buffer): Promise<string> {
  return pool.evaluateOffline(differenceHash, png.toString('base64'));
}
