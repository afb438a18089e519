import { Logger } from '@aws-lambda-powertools/logger';
import type { QboLogger } from './tokens.js';
export const l: QboLogger = new Logger();
