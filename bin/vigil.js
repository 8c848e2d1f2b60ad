#!/usr/bin/env node
// The `vigil` command. Vigil is written in TypeScript and run through tsx, so there is no build
// step between a clone and a working command.
import { register } from 'tsx/esm/api';

register();
await import('../scripts/vigil.ts');
