// Memory use of a role started with the memory probe (./memory-probe.mjs): asked by SIGWINCH, read
// from the line the process writes once it has collected its garbage.
import type { RoleProcess } from './vigil-processes';

export interface MemoryUse {
  rss: number;
  heapUsed: number;
  external: number;
}

const lines = (role: RoleProcess) => role.command.output().split('\n').filter((line) => line.startsWith('vigil-memory '));

export async function memoryAfterGc(role: RoleProcess, timeoutMs = 30_000): Promise<MemoryUse> {
  const before = lines(role).length;
  process.kill(role.pid, 'SIGWINCH');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = lines(role);
    if (all.length > before) return JSON.parse(all.at(-1)!.slice('vigil-memory '.length)) as MemoryUse;
    if (role.exited() || Date.now() > deadline) throw new Error(`${role.role} (pid ${role.pid}) did not report its memory:\n${role.command.output().slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
