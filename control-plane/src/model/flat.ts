// Strings the model keeps for as long as their Ingress lives (route names, match keys,
// field paths, cluster names, the keys a plan read) are built with `+` and template
// literals, which V8 makes as trees of "cons strings": a 60-character key built from
// four parts costs ~390 bytes of heap that way, ~140 once flat. At 10,000 Ingresses the
// model held ~1.3M such tree nodes (39 MiB). flat() has V8 flatten the tree in place:
// reading a character of a cons string that is not flat makes V8 copy its characters into
// one sequential string and leave the cons string pointing at it alone, and the garbage
// collector then replaces every reference to such a cons string by that sequential string
// (test/unit/flat.test.ts measures the heap either way). It costs one copy of the
// characters; a copy made by a regular expression replacement (what this did before)
// cost ~2x more, ~0.28 s of a 10k from-scratch model build.
const MIN_CONS = 13; // V8 makes shorter concatenations flat already

/** `s`, with V8 told to store it flat (see above). */
export function flat(s: string): string {
  if (s.length >= MIN_CONS) s.charCodeAt(0);
  return s;
}
