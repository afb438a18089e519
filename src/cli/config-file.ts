/** The sync config reader now lives in src/adapters/config-file.ts (shared with local mode); kept for old imports. */
export {
  checkConfigShape,
  entryPath,
  jsonSyntaxError,
  parseConfigText,
  type ReadConfigResult,
  readConfigFile,
} from '../adapters/config-file.js';
