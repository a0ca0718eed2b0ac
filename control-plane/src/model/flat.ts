// Strings the model keeps for as long as their Ingress lives (route names, match keys,
// field paths, cluster names, the keys a plan read) are built with `+` and template
// literals, which V8 makes as trees of "cons strings": a 60-character key built from
// four parts costs ~390 bytes of heap that way, ~140 once flat. At 10,000 Ingresses the
// model held ~1.3M such tree nodes (39 MiB). flat() gives a flat copy: a regex
// replacement writes its result into one new sequential string (a slice would keep a
// 32-byte header pointing into the flattened tree). Measured: no slower than leaving
// the tree, which V8 flattens anyway the first time the string is hashed or compared.
const MIN_CONS = 13; // V8 makes shorter concatenations flat already
const START = /^/;

/** The same characters as `s`, stored flat (see above). */
export function flat(s: string): string {
  return s.length < MIN_CONS ? s : s.replace(START, '');
}
