import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * JSON logs; anything that could carry a secret or a window title is redacted. Written to
 * stdout unless a destination is given (tests read what would have been written).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'icarus-cloud' },
    // An error is logged by kind, code and message only: a database error carries the query
    // and its parameters (app names, titles, emails of a whole batch), a parse error the input.
    serializers: { err: loggableError },
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
        'spans[*].app',
        '*.parameters',
        '*.params',
        '*.query',
        '*.body',
      ],
      censor: '[redacted]',
    },
  };
  return pino(options, destination ?? stdoutWithoutBlocking());
}

/**
 * stdout written asynchronously: a log line per request must not stop the event loop on a
 * write (synchronous stdout writes were a visible share of the server's CPU under load). What
 * is still buffered is written out synchronously when the process exits.
 */
function stdoutWithoutBlocking(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false });
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // Nothing left to write, or stdout already closed.
    }
  });
  return stream;
}

export interface LoggableError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: LoggableError;
}

/**
 * What an error log keeps: the kind, the database or system code, the message and where.
 * drizzle's query errors put the parameters in the message ("Failed query: …\nparams: …"):
 * that part is cut, and the database's own error (its code and message) is kept as the cause.
 */
export function loggableError(error: unknown, depth = 0): LoggableError {
  if (!(error instanceof Error)) return { type: typeof error, message: 'non-error thrown' };
  const code: unknown = Reflect.get(error, 'code');
  const cause = error.cause instanceof Error && depth < 3 ? loggableError(error.cause, depth + 1) : undefined;
  return {
    type: error.name,
    message: withoutParameters(error.message),
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack && depth === 0
      ? {
          stack: error.stack
            .split('\n')
            .filter((line) => line.trimStart().startsWith('at '))
            .join('\n'),
        }
      : {}),
    ...(cause ? { cause } : {}),
  };
}

function withoutParameters(message: string): string {
  const at = message.search(/\n\s*params:/);
  return at === -1 ? message : message.slice(0, at);
}
