// Stable in-place sorting for the short lists the model sorts per host (a host's routes,
// the Ingresses naming it): Array.prototype.sort allocates work arrays on every call,
// which at 10k Ingresses added ~20 MB of garbage to a full model build.

/** Sorts `list` in place, stably (as Array.prototype.sort does), and returns it. */
export function sortInPlace<T>(list: T[], compare: (a: T, b: T) => number): T[] {
  const n = list.length;
  if (n > 16) return list.sort(compare);
  for (let i = 1; i < n; i++) {
    const x = list[i]!;
    let j = i - 1;
    while (j >= 0 && compare(list[j]!, x) > 0) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = x;
  }
  return list;
}
