#!/usr/bin/env node
// The xgate CLI. Build first (npm run build); this runs the compiled control plane.
import { main } from '../dist/control-plane/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
