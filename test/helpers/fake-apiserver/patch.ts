// Patch bodies the stand-in applies: JSON merge patch (RFC 7386), strategic merge patch
// (applied as a merge patch: lists are replaced whole and `$patch` directives are
// refused — enough for the metadata/status/count patches xgate sends), and JSON patch
// (RFC 6902: add, remove, replace, test).
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class PatchError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 415 | 422 = 400,
  ) {
    super(message);
  }
}

export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

function isObject(v: unknown): v is { [k: string]: Json } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: { [k: string]: Json } = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

function refuseDirectives(patch: Json): void {
  if (Array.isArray(patch)) patch.forEach(refuseDirectives);
  else if (isObject(patch)) {
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith('$')) throw new PatchError(`strategic merge directive ${k} is not supported by the stand-in API server`, 422);
      refuseDirectives(v);
    }
  }
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be a list of operations');
  let root = structuredClone(doc);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') throw new PatchError('invalid JSON patch operation');
    const parts = pointer(raw['path']);
    const op = raw['op'];
    if (parts.length === 0) {
      if (op === 'test') {
        if (JSON.stringify(root) !== JSON.stringify(raw['value'])) throw new PatchError('JSON patch test failed', 422);
        continue;
      }
      if (op === 'add' || op === 'replace') root = structuredClone(raw['value'] ?? null);
      else throw new PatchError(`JSON patch op ${op} on the root is not supported`);
      continue;
    }
    let parent: Json = root;
    for (const p of parts.slice(0, -1)) {
      const next: Json | undefined = Array.isArray(parent) ? parent[Number(p)] : isObject(parent) ? parent[p] : undefined;
      if (next === undefined) throw new PatchError(`JSON patch path ${raw['path']} does not exist`, 422);
      parent = next;
    }
    const last = parts[parts.length - 1]!;
    const value = structuredClone(raw['value'] ?? null);
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new PatchError(`JSON patch index ${last} out of range`, 422);
      if (op === 'add') parent.splice(i, 0, value);
      else if (op === 'replace') parent[i] = value;
      else if (op === 'remove') parent.splice(i, 1);
      else if (op === 'test') {
        if (JSON.stringify(parent[i]) !== JSON.stringify(raw['value'])) throw new PatchError('JSON patch test failed', 422);
      } else throw new PatchError(`JSON patch op ${op} is not supported`);
    } else if (isObject(parent)) {
      if ((op === 'replace' || op === 'remove' || op === 'test') && !(last in parent)) throw new PatchError(`JSON patch path ${raw['path']} does not exist`, 422);
      if (op === 'add' || op === 'replace') parent[last] = value;
      else if (op === 'remove') delete parent[last];
      else if (op === 'test') {
        if (JSON.stringify(parent[last]) !== JSON.stringify(raw['value'])) throw new PatchError('JSON patch test failed', 422);
      } else throw new PatchError(`JSON patch op ${op} is not supported`);
    } else throw new PatchError(`JSON patch path ${raw['path']} does not exist`, 422);
  }
  return root;
}

export function applyPatch(contentType: string, doc: object, patch: unknown): object {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const result =
    type === MERGE_PATCH
      ? mergePatch(doc as Json, patch as Json)
      : type === STRATEGIC_MERGE_PATCH
        ? (refuseDirectives(patch as Json), mergePatch(doc as Json, patch as Json))
        : type === JSON_PATCH
          ? jsonPatch(doc as Json, patch as Json)
          : (() => {
              throw new PatchError(`the stand-in API server does not accept patches of type ${contentType}`, 415);
            })();
  if (!isObject(result)) throw new PatchError('a patch must leave an object', 422);
  return result;
}
