// The pure pipeline: store snapshot → model → Envoy resources, with diagnostics.
import { resetSignatureMemos } from '../annotations/signature-memo.js';
import { sortDiagnostics, type Diagnostic } from '../diagnostics.js';
import { buildModel, withFreshModelBuilder } from '../model/build.js';
import { buildEndpoints, resetEndpoints } from '../model/endpoints.js';
import { forgetPairVerdicts } from '../model/tls.js';
import type { EndpointModel, Model } from '../model/ir.js';
import type { ModelOptions } from '../model/options.js';
import { DEFAULT_MODEL_OPTIONS } from '../model/options.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { TranslateOptions } from '../translate/options.js';
import { DEFAULT_TRANSLATE_OPTIONS } from '../translate/options.js';
import type { GroupResources } from '../translate/resources.js';
import { resetTranslation, translate } from '../translate/translate.js';
import { resetConsistency } from './consistency.js';

export type PipelineOptions = ModelOptions & TranslateOptions;
export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = { ...DEFAULT_MODEL_OPTIONS, ...DEFAULT_TRANSLATE_OPTIONS };

export interface TranslateResult {
  readonly model: Model;
  readonly endpoints: EndpointModel;
  readonly resources: GroupResources;
  readonly diagnostics: readonly Diagnostic[];
  /** URLs of documents the annotations asked the control plane to fetch (sorted). */
  readonly externalUrls?: readonly string[];
}

/** `groups`: the node groups to make resources for (default: all; see translate()). */
export function translateStore(store: StoreSnapshot, opts: PipelineOptions = DEFAULT_PIPELINE_OPTIONS, groups?: ReadonlySet<string>): TranslateResult {
  const built = buildModel(store, opts);
  const endpoints = buildEndpoints(built.model.clusters, store);
  const resources = translate(built.model, endpoints, opts, groups, built.changes);
  return { model: built.model, endpoints, resources, diagnostics: sortDiagnostics(built.diagnostics), externalUrls: built.externalUrls };
}

/**
 * Runs `fn` as the first build of a process would run (for benchmarks of a full build):
 * a new model builder, and endpoints, certificate checks, translation and the consistency
 * check without memory of an earlier build. Only the JIT stays warm. Memos keyed by input
 * object (an Ingress's plan, a Secret's check) are the caller's to defeat: give `fn` a
 * store of new objects, as informers give a new process. The model builder is put back
 * afterwards; the others remember what `fn` built.
 */
export function fromScratch<T>(fn: () => T): T {
  resetEndpoints();
  forgetPairVerdicts();
  resetTranslation();
  resetConsistency();
  resetSignatureMemos();
  return withFreshModelBuilder(fn);
}
