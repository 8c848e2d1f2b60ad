// The `Host` names the local tracker answers to. DNS rebinding points a name the attacker owns at
// this address, so the victim's browser sends that name: a request naming no host of ours is
// refused, whoever can reach the port.

const wildcards = new Set(['0.0.0.0', '::', '[::]']);
const bracketed = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/** `name` and `port` of a Host header, or undefined for one that is not `name[:port]`. */
function parseHost(header: string): { name: string; port?: number } | undefined {
  const match = /^(\[[\da-f:.]+\]|[^[\]:]+)(?::(\d{1,5}))?$/i.exec(header);
  return match ? { name: match[1]!.toLowerCase(), port: match[2] === undefined ? undefined : Number(match[2]) } : undefined;
}

/**
 * By default, intake's configured host (unless a wildcard like 0.0.0.0), `localhost`, `127.0.0.1`
 * and `[::1]`, each on the port the request arrived at; `extra` adds names, an entry with a port
 * for that port only.
 */
export function createHostCheck(intakeHost: string, extra: readonly string[]) {
  const ours = new Set(['localhost', '127.0.0.1', '[::1]', ...(wildcards.has(intakeHost) ? [] : [bracketed(intakeHost).toLowerCase()])]);
  const configured = extra.map(parseHost).filter((entry) => entry !== undefined);
  /** `defaultPort` stands for a Host without one (80 over http, 443 over https). */
  return (header: string | undefined, localPort: number, defaultPort: number): boolean => {
    const host = header === undefined ? undefined : parseHost(header);
    if (!host) return false;
    const port = host.port ?? defaultPort;
    return (
      (ours.has(host.name) && port === localPort) ||
      configured.some((entry) => entry.name === host.name && (entry.port === undefined || entry.port === port))
    );
  };
}
