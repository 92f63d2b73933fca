// @dnnpart/zoo: torchvision networks as ONNX, with seeded weights.

export {
  zooNames,
  isZooName,
  listZoo,
  zooModelInfo,
  buildZooModel,
  buildZooModelProto,
  defaultZooInputShape,
  defaultZooSeed,
  zooDefaultInputShape,
} from './zoo.js';
export type { ZooName, ZooEntry, ZooBuildOptions, ZooInputShape, ZooModelInfo, ZooNodeInfo, ZooKind, ZooTensorInfo } from './zoo.js';
export type { ZooDType } from './_builder.js';
export { IR_VERSION as zooIrVersion, OPSET_VERSION as zooOpsetVersion } from './_encode.js';
export { ZooError, isZooError } from './errors.js';
export type { ZooErrorCode } from './errors.js';
export { externalModels, findExternalModel } from './external.js';
export type { ExternalModel, ExternalModelKind, ExternalModelSource } from './external.js';
