import { pino, type DestinationStream, type Logger } from 'pino';

// Logs go to stderr, so a command's stdout stays its result (for example `vigil demo --json`).
// Anything that could carry a credential is censored wherever it appears in a log line. Headers go
// whole: which of them holds a credential is configuration (an API key may travel in
// `x-vendor-auth`), so no list of names finds it; an error from an HTTP client carries them up to
// three levels down (`err.headers`, `err.config.headers`, `err.request.options.headers`).
const redact = {
  paths: [
    'headers',
    '*.headers',
    '*.*.headers',
    '*.*.*.headers',
    'token',
    '*.token',
    'secret',
    '*.secret',
    'password',
    '*.password',
    'authorization',
    '*.authorization',
    'cookie',
    '*.cookie',
  ],
  censor: '[redacted]',
};

/** `destination` is for tests, which read what a log line would show. */
export function createLogger(name: string, level = process.env.VIGIL_LOG_LEVEL ?? 'info', destination: DestinationStream = pino.destination(2)): Logger {
  return pino({ name, level, redact }, destination);
}

export type { Logger };
