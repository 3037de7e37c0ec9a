import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * JSON logs; anything that could carry a secret or a window title is redacted. Written to
 * stdout unless a destination is given (tests read what would have been written).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'icarus-cloud' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.token',
        '*.accessToken',
        '*.assertion',
        '*.enrollmentToken',
        '*.title',
        '*.totp',
        'spans[*].title',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
