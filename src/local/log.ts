/** Local mode's own log lines (the Lambda handlers log through their own loggers): Powertools, redacted. */
import type { AppLog } from '../app/log.js';
import { createLogger } from '../adapters/logging.js';

/**
 * Readable in a terminal: on a TTY, and unless `POWERTOOLS_DEV` is set either way, Powertools' pretty output is
 * turned on for every logger of the process; piped (CI, tests), each line stays one JSON document.
 */
export function preferPrettyLogs(env: NodeJS.ProcessEnv = process.env, isTty: boolean = process.stdout.isTTY === true) {
  if (isTty && env.POWERTOOLS_DEV === undefined) env.POWERTOOLS_DEV = 'true';
}

export function localLogger(): AppLog {
  const logger = createLogger('qbo-sync-local');
  return {
    debug: (message, extra) => (extra ? logger.debug(message, extra) : logger.debug(message)),
    info: (message, extra) => (extra ? logger.info(message, extra) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra) : logger.error(message)),
  };
}
