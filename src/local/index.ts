/** Local mode (`qbo-sync local`, `npm start`): see run.ts (the wiring) and the files it names. The CLI's `--local` uses `readLocalTarget`. */
export { LOCAL_USAGE, type LocalCliOptions, parseLocalArgs, UsageError } from './args.js';
export * from './constants.js';
export {
  type DemoOutcome,
  type LocalInstance,
  type LocalOptions,
  LocalStartError,
  runLocal,
  startLocal,
} from './run.js';
export {
  DEFAULT_DATA_DIR,
  isProcessAlive,
  LocalModeNotRunningError,
  type LocalTarget,
  LocalTargetSchema,
  localTargetEnv,
  readLocalTarget,
  resolveDataDir,
} from './target.js';
