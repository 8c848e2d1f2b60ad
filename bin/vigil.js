#!/usr/bin/env node
// The `vigil` command. Vigil is written in TypeScript. `vigil build` (which `vigil setup` and the
// Dockerfile run) compiles it to .build/cli/, which runs while its sources are unchanged: plain
// JavaScript starts sooner and holds less memory than TypeScript compiled as it loads. Otherwise (a
// fresh clone, an edited source) tsx runs the sources as they are, so there is no build step
// between a clone and a working command.
import { checkCompiledCli } from './compiled-cli.js';

const compiled = checkCompiledCli();
if (compiled.fresh) {
  await import(compiled.entry);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../scripts/vigil.ts');
}
