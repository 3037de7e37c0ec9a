import pino, { type Logger } from 'pino';

/** JSON logs; anything that could carry a secret or a window title is redacted. */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}
