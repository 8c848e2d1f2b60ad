// Long work (`vigil setup`, `vigil bench`) says what step it is on, on a terminal only; a package
// manager's output stays off the terminal unless it fails, and then its end is shown.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runPackageManager } from '../../scripts/prerequisites';
import { progress } from '../../scripts/progress';

function stream(isTTY: boolean) {
  const written: string[] = [];
  const out = Object.assign(new PassThrough(), { isTTY });
  out.on('data', (chunk: Buffer) => written.push(chunk.toString()));
  return { out: out as unknown as NodeJS.WriteStream, written };
}

describe('progress', () => {
  it('says the step, n of m, on a terminal', async () => {
    const { out, written } = stream(true);
    const shown = progress(2, out);
    shown.step('Installing Python packages');
    shown.step("Updating apt's package lists");
    await new Promise((resolve) => setImmediate(resolve));
    expect(written.join('')).toBe("[1/2] Installing Python packages …\n[2/2] Updating apt's package lists …\n");
  });

  it('prints nothing when not on a terminal', async () => {
    const { out, written } = stream(false);
    progress(1, out).step('Installing');
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual([]);
  });
});

describe('a package manager run by vigil setup', () => {
  afterEach(() => vi.restoreAllMocks());
  // Stands in for apt: 100 lines of notices on both streams, as debconf's.
  const noisy = (status: number) => [
    '-e',
    `for (let n = 1; n <= 100; n += 1) (n % 2 ? process.stdout : process.stderr).write('debconf: line ' + n + '\\n'); process.exitCode = ${status};`,
  ];

  it('keeps its output off the terminal when it succeeds', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    await runPackageManager(process.execPath, noisy(0), false);
    expect(error).not.toHaveBeenCalled();
  });

  it('shows the end of its output, in order, when it fails', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    await expect(runPackageManager(process.execPath, noisy(2), false)).rejects.toThrow(/failed \(exit 2\)$/);
    const shown = error.mock.calls.map(([text]) => String(text)).join('\n');
    expect(shown).toContain('debconf: line 100');
    expect(shown).toContain('debconf: line 61');
    expect(shown).not.toContain('debconf: line 60\n');
  });
});
