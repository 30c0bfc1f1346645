import type { ServerResponse } from 'node:http';

/**
 * Notices the party an exchange answers leaving before its answer ended (its connection
 * closed), and ends what the exchange holds open on its behalf — a request to the provider's
 * gateway or to the service, queued, uploading or awaiting its answer, and that answer — so a
 * pooled connection is closed (the other side sees it end) instead of staying taken until an
 * answer nobody reads, or its idle timeout.
 */
export class DepartureWatch {
  /** The answered party has left. */
  gone = false;
  private readonly held: Array<{ destroy(): unknown }> = [];
  private readonly onClose = () => {
    if (this.res.writableFinished) return;
    this.gone = true;
    for (const stream of this.held) stream.destroy();
  };

  constructor(private readonly res: ServerResponse) {
    res.once('close', this.onClose);
  }

  /** Ends `stream` when the party leaves (at once, if it has). */
  hold(stream: { destroy(): unknown }): void {
    if (this.gone) stream.destroy();
    else this.held.push(stream);
  }

  stop(): void {
    this.res.off('close', this.onClose);
  }
}
