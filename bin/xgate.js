#!/usr/bin/env node
// The xgate CLI. Build first (npm run build); this runs the compiled control plane.
import '../dist/control-plane/src/main.js';
