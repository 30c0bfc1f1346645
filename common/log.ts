import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One structured logger per process (JSON lines on stderr). Call sites log identifiers,
 * sizes and outcomes — never bodies, keys, tokens or passphrases; the redact list is a
 * second line of defence for fields that carry secrets by name. A string destination is a
 * file path (parents created).
 */
export function createLogger(name: string, level = 'info', destination?: NodeJS.WritableStream | string): Logger {
  const sink = typeof destination === 'string' ? pino.destination({ dest: destination, mkdir: true, sync: false }) : destination;
  return pino(
    {
      name,
      level,
      redact: { paths: ['*.password', '*.passphrase', '*.token', '*.privateKey', '*.key', 'password', 'passphrase', 'token'], censor: '[redacted]' },
      base: { pid: process.pid },
    },
    (sink ?? pino.destination(2)) as pino.DestinationStream,
  );
}

/** A logger that drops everything: for library code run inside tests or one-shot commands. */
export const silentLogger: Logger = pino({ level: 'silent' });
