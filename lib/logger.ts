import { pino, type Logger } from 'pino';

// Logs go to stderr, so a command's stdout stays its result (for example `vigil demo --json`).
// Anything that could carry a credential is censored wherever it appears in a log line.
const redact = {
  paths: [
    'token',
    '*.token',
    'authorization',
    '*.authorization',
    'headers.authorization',
    'req.headers.authorization',
    'req.headers.cookie',
  ],
  censor: '[redacted]',
};

export function createLogger(name: string, level = process.env.VIGIL_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, redact }, pino.destination(2));
}

export type { Logger };
