// Machines a test's static inventory knows, with something really answering on loopback: what the
// correlation and issue-body tests investigate. Nothing beyond 127.0.0.0/8 is named or reached.
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A port on 127.0.0.1 that accepts connections (and closes them): an exposure that is really open. */
export interface AnsweringPort {
  port: number;
  close(): Promise<void>;
}

export async function startAnsweringPort(): Promise<AnsweringPort> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  };
}

export interface InventoryMachine {
  id: string;
  /** Loopback addresses only. */
  addresses: string[];
  /** Other names alerts use for it (an instance id, a security group in front of it). */
  refs?: string[];
  /** The TCP port the inventory shows open to the internet. */
  open: number;
}

/** A static inventory file listing the machines; returns its path (in a fresh temporary folder). */
export async function writeStaticInventory(machines: InventoryMachine[]): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'vigil-inventory-')), 'inventory.yaml');
  const lines = machines.flatMap(({ id, addresses, refs, open }) => [
    `  - id: ${id}`,
    `    addresses: [${addresses.join(', ')}]`,
    ...(refs ? [`    refs: [${refs.join(', ')}]`] : []),
    `    open: [{ protocol: tcp, ports: ${open} }]`,
  ]);
  await writeFile(file, ['resources:', ...lines].join('\n'));
  return file;
}
