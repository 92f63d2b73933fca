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
} from './zoo.js';
export type { ZooName, ZooEntry, ZooBuildOptions, ZooInputShape, ZooModelInfo, ZooNodeInfo } from './zoo.js';
export { IR_VERSION as zooIrVersion, OPSET_VERSION as zooOpsetVersion } from './_encode.js';
export { ZooError, isZooError } from './errors.js';
export type { ZooErrorCode } from './errors.js';
export { externalModels, findExternalModel } from './external.js';
export type { ExternalModel, ExternalModelKind, ExternalModelSource } from './external.js';
