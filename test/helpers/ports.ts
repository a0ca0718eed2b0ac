// Free TCP ports for tests (scripts/free-ports.ts: picked below the kernel's ephemeral
// range, so that no port-0 bind of another test takes one before it is used). Prefer port
// 0 where the code under test can report its real port (Envoy admin, backends), and use
// these where it cannot (xDS listeners).
export { freePort, freePorts } from '../../scripts/free-ports.js';
