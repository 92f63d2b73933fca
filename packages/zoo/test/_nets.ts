// The zoo's networks by family, for tests that only make sense for some of them.
import { listZoo, zooNames, type ZooName } from '@dnnpart/zoo';

/** Text encoders: [batch, sequence] int64 inputs. */
export const textNames: readonly ZooName[] = listZoo().filter((e) => e.kind === 'text').map((e) => e.name);
/** Vision transformers: square images, a multiple of the patch size. */
export const vitNames: readonly ZooName[] = zooNames.filter((n) => n.startsWith('vit_'));
/** Detectors (Ultralytics YOLO): sides a multiple of 32, [batch, 84, anchors] output `output0`. */
export const detectorNames: readonly ZooName[] = zooNames.filter((n) => n.startsWith('yolo'));
/** The torchvision CNNs: any image size down to their smallest, [batch, 1000] output. */
export const cnnNames: readonly ZooName[] = zooNames.filter((n) => !textNames.includes(n) && !vitNames.includes(n) && !detectorNames.includes(n));
