export { CnnpartedError, isCnnpartedError, type CnnpartedErrorCode } from './errors.js';
export {
  importCnnparted, cnnpartedInputSide, readCnnpartedSchedule, readCnnpartedCosts, readCnnpartedResults,
  CNNPARTED_DATA_DIR, CNNPARTED_NETWORKS, CNNPARTED_PLATFORMS, CNNPARTED_LINK, CNNPARTED_BYTES_PER_ELEMENT,
  type CnnpartedOptions, type CnnpartedResultRow,
} from './cnnparted.js';
