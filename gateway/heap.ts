import v8 from 'node:v8';

/**
 * How a gateway process keeps its heap small (issue 22, measured with `npm run bench`). V8's
 * defaults suit a short burst of work, not a long-running proxy on a laptop with several of
 * them: its young generation grows to two 16 MB semi-spaces during start-up and stays there,
 * and after a full collection the old generation may grow to up to four times what survived
 * before the next one. A gateway's garbage is almost all short-lived (one exchange's
 * strings and buffers), so 4 MB semi-spaces and letting the old generation only double cost
 * little: in `npm run bench`, peak RSS
 * 250 MB instead of 380–420 and idle 95–105 MB instead of 105–120, at the same CPU per exchange.
 * A 50 % allowance cut the peak no further over a whole bench run and halved the 1 GiB
 * body's rate (57 against 103–116 MB/s): its 1 MiB chunks outlive the young generation, so
 * every few of them forced a full collection.
 */

/** Node flags for a gateway process: the young generation is sized when V8 starts, so these go on its command line (sim, bench, docker's NODE_OPTIONS). */
export const GATEWAY_NODE_ARGS: readonly string[] = ['--max-semi-space-size=4'];

/** Applies, in a running gateway process, what V8 reads at every full collection: how far the old generation may grow past what survived. */
export function tuneGatewayHeap(): void {
  v8.setFlagsFromString('--heap-growing-percent=100');
}
