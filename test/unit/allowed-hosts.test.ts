// The local tracker's Host allow-list, case by case (test/integration/local-tracker-security.test.ts
// sends real requests).
import { describe, expect, it } from 'vitest';
import { createHostCheck } from '../../intake/allowed-hosts';

const port = 8787;

describe('the Host allow-list', () => {
  it("takes loopback names and intake's own host on intake's port only", () => {
    const allowed = createHostCheck('vigil.internal', []);
    for (const host of ['localhost:8787', 'LOCALHOST:8787', '127.0.0.1:8787', '[::1]:8787', 'vigil.internal:8787']) {
      expect(allowed(host, port, 80), host).toBe(true);
    }
    for (const host of ['localhost:8788', 'vigil.internal', 'attacker.example:8787', '10.0.0.5:8787', undefined, '', 'a:b:c', 'localhost:8787/x']) {
      expect(allowed(host, port, 80), String(host)).toBe(false);
    }
    expect(createHostCheck('127.0.0.1', [])('localhost', 80, 80)).toBe(true);
  });

  it('never takes a wildcard listening address as a name', () => {
    expect(createHostCheck('0.0.0.0', [])('0.0.0.0:8787', port, 80)).toBe(false);
    expect(createHostCheck('::', [])('[::]:8787', port, 80)).toBe(false);
    expect(createHostCheck('::1', [])('[::1]:8787', port, 80)).toBe(true);
  });

  it('adds configured names: on any port, or on the one given', () => {
    const allowed = createHostCheck('0.0.0.0', ['Vigil.Example.com', 'nas.local:9000']);
    expect(allowed('vigil.example.com', port, 443)).toBe(true);
    expect(allowed('vigil.example.com:8443', port, 80)).toBe(true);
    expect(allowed('nas.local:9000', port, 80)).toBe(true);
    expect(allowed('nas.local:8787', port, 80)).toBe(false);
    expect(allowed('nas.local', port, 80)).toBe(false);
  });
});
