// `fetch` that also reads `file://` URLs, so a feed can come from an offline copy (an air-gapped
// mirror, or the demo's bundled snapshot) with the same code path as a download.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const fetchWithFiles: typeof fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!url.startsWith('file:')) return fetch(input, init);
  try {
    return new Response(await readFile(fileURLToPath(url)), { status: 200 });
  } catch (err) {
    return new Response(`cannot read ${url}: ${(err as Error).message}`, { status: 404 });
  }
};
