// YAML (or JSON) manifests → watched objects, with a diagnostic for every document
// that is not one.
import { createRequire } from 'node:module';
import { DiagnosticSink, type ObjectRef } from '../diagnostics.js';
import type { WatchedKind, WatchedObject } from './k8s-types.js';
import { fastDocuments } from './yaml-fast.js';

/** apiVersion accepted for each kind. */
const API_VERSIONS: Record<WatchedKind, readonly string[]> = {
  Ingress: ['networking.k8s.io/v1'],
  IngressClass: ['networking.k8s.io/v1'],
  Service: ['v1'],
  EndpointSlice: ['discovery.k8s.io/v1'],
  Secret: ['v1'],
  Pod: ['v1'],
};
const CLUSTER_SCOPED = new Set<WatchedKind>(['IngressClass']);

// The `yaml` library is loaded the first time a text needs it (~0.1 s of start-up otherwise).
const require = createRequire(import.meta.url);
let yamlLib: typeof import('yaml') | undefined;
const yaml = (): typeof import('yaml') => (yamlLib ??= require('yaml') as typeof import('yaml'));

export interface ParsedManifests {
  readonly objects: WatchedObject[];
  readonly diagnostics: DiagnosticSink['items'];
  /** False when the text itself is not valid YAML (a source may keep the file's last good objects). */
  readonly parsed: boolean;
}

export function parseManifests(text: string, file: string): ParsedManifests {
  const sink = new DiagnosticSink();
  const fileRef: ObjectRef = { kind: 'File', namespace: '', name: file };
  const objects: WatchedObject[] = [];
  let parsed = true;
  // Most text is read by js-yaml (4-6x faster); what it may read differently, and every
  // error, goes to the `yaml` library below, whose messages and alias limit are the ones reported.
  const fast = fastDocuments(text);
  if (fast !== undefined) {
    fast.forEach((value, i) => {
      if (value !== null && value !== undefined) collect(value, `document ${i + 1}`, fileRef, sink, objects);
    });
    return { objects, diagnostics: sink.items, parsed };
  }
  let docs;
  try {
    docs = yaml().parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    sink.error('XG_MANIFEST_YAML', fileRef, (e as Error).message);
    return { objects, diagnostics: sink.items, parsed: false };
  }
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    if (doc.errors.length) {
      parsed = false;
      sink.error('XG_MANIFEST_YAML', fileRef, `document ${i + 1}: ${doc.errors[0]!.message.split('\n')[0]}`);
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      parsed = false;
      sink.error('XG_MANIFEST_YAML', fileRef, `document ${i + 1}: ${(e as Error).message}`);
      return;
    }
    if (value === null || value === undefined) return;
    collect(value, `document ${i + 1}`, fileRef, sink, objects);
  });
  return { objects, diagnostics: sink.items, parsed };
}

function collect(value: unknown, where: string, fileRef: ObjectRef, sink: DiagnosticSink, out: WatchedObject[]): void {
  if (!isRecord(value)) {
    sink.error('XG_MANIFEST_SHAPE', fileRef, `${where} is not a mapping`);
    return;
  }
  if (value['kind'] === 'List' && Array.isArray(value['items'])) {
    value['items'].forEach((item, j) => collect(item, `${where} item ${j + 1}`, fileRef, sink, out));
    return;
  }
  const kind = value['kind'];
  const apiVersion = value['apiVersion'];
  const meta = value['metadata'];
  if (typeof kind !== 'string' || typeof apiVersion !== 'string' || !isRecord(meta) || typeof meta['name'] !== 'string' || meta['name'] === '') {
    sink.error('XG_MANIFEST_SHAPE', fileRef, `${where} needs apiVersion, kind and metadata.name`);
    return;
  }
  if (!(kind in API_VERSIONS)) {
    sink.warning('XG_MANIFEST_UNKNOWN_KIND', fileRef, `${where}: kind ${kind} is not read by xgate (it reads ${Object.keys(API_VERSIONS).join(', ')})`);
    return;
  }
  const k = kind as WatchedKind;
  if (!API_VERSIONS[k].includes(apiVersion)) {
    sink.warning('XG_MANIFEST_UNKNOWN_KIND', fileRef, `${where}: ${kind} ${apiVersion} is not read; use ${API_VERSIONS[k].join(' or ')}`);
    return;
  }
  const metadata = { ...meta } as Record<string, unknown>;
  if (CLUSTER_SCOPED.has(k)) delete metadata['namespace'];
  else if (metadata['namespace'] === undefined || metadata['namespace'] === '') metadata['namespace'] = 'default';
  if (metadata['annotations'] !== undefined && !isStringMap(metadata['annotations'])) {
    sink.error('XG_MANIFEST_SHAPE', fileRef, `${where}: metadata.annotations values must be strings`);
    return;
  }
  if (metadata['labels'] !== undefined && !isStringMap(metadata['labels'])) {
    sink.error('XG_MANIFEST_SHAPE', fileRef, `${where}: metadata.labels values must be strings`);
    return;
  }
  out.push({ ...value, metadata } as unknown as WatchedObject);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringMap(v: unknown): boolean {
  return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
}
