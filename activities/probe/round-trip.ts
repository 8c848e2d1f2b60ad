// How long the TCP sweep waits for a host to answer a connect, learnt from the answers it already
// gave (a SYN-ACK and a RST alike take one round trip): RFC 6298's smoothed round-trip time plus four
// times its variation, as TCP's retransmission timer and nmap's scan timing both do, kept between a
// floor and a ceiling. A port that stays silent past that wait was dropped, so a filtered port costs a
// few of the host's round trips rather than a fixed connect timeout.

/** RFC 6298's gains: the smoothed time moves 1/8 and the variation 1/4 towards each sample. */
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

export interface WaitBounds {
  /** The wait before the host has answered anything. */
  initialMs: number;
  /** The shortest wait, however fast the host answers: below it, timer and scheduling noise decide. */
  floorMs: number;
  /** The longest wait (the configured connect timeout); it wins over the floor and the initial wait. */
  ceilingMs: number;
}

export class RoundTripEstimate {
  private smoothed: number | undefined;
  private variation = 0;

  constructor(private readonly bounds: WaitBounds) {}

  /** Whether the host has answered anything yet. */
  get answered(): boolean {
    return this.smoothed !== undefined;
  }

  /** One answer, `ms` after its connect began. */
  observe(ms: number): void {
    if (this.smoothed === undefined) {
      this.smoothed = ms;
      this.variation = ms / 2;
      return;
    }
    this.variation = (1 - BETA) * this.variation + BETA * Math.abs(this.smoothed - ms);
    this.smoothed = (1 - ALPHA) * this.smoothed + ALPHA * ms;
  }

  /** How long a connect is given before its silence means a drop; `share` times that, up to the ceiling. */
  waitMs(share = 1): number {
    const { initialMs, floorMs, ceilingMs } = this.bounds;
    const wanted = this.smoothed === undefined ? initialMs : this.smoothed + K * this.variation;
    return Math.min(ceilingMs, share * Math.max(floorMs, wanted));
  }
}

/** What a waiter waits for, in the host's terms: `share` times its wait, and never less than `atLeastMs`. */
export interface WaitKind {
  share: number;
  atLeastMs: number;
}

interface Waiter {
  started: number;
  expire: () => void;
}

/**
 * The connects (and banner reads) waiting for one host's answer. Each waits its share of the host's
 * *current* wait: when answers bring the estimate down, waits begun before them (the first wave,
 * started on the initial wait) are cut short too, as nmap does. One timer per host, armed for the
 * earliest deadline; waiters are kept by kind in the order they started, so the first of each kind is
 * the next due.
 */
export class HostWaits {
  readonly estimate: RoundTripEstimate;
  private readonly waiting = new Map<WaitKind, Set<Waiter>>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(bounds: WaitBounds) {
    this.estimate = new RoundTripEstimate(bounds);
  }

  /** Calls `expire` once a wait of `kind` has passed since now, unless the returned function is called first. */
  wait(kind: WaitKind, expire: () => void): () => void {
    const waiter: Waiter = { started: performance.now(), expire };
    const queue = this.waiting.get(kind) ?? this.waiting.set(kind, new Set()).get(kind)!;
    queue.add(waiter);
    if (queue.size === 1) this.arm();
    return () => {
      if (queue.delete(waiter) && queue.size === 0) this.arm();
    };
  }

  /** An answer from the host, `ms` after its connect began: every deadline moves with the estimate. */
  answered(ms: number): void {
    this.estimate.observe(ms);
    this.arm();
  }

  private waitOf({ share, atLeastMs }: WaitKind): number {
    return Math.max(atLeastMs, this.estimate.waitMs(share));
  }

  private arm() {
    let next = Infinity;
    for (const [kind, queue] of this.waiting) {
      const [first] = queue;
      if (first) next = Math.min(next, first.started + this.waitOf(kind));
    }
    if (next === this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = next;
    this.timer = undefined;
    if (next === Infinity) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.armedFor = Infinity;
        // Timers run before the event loop polls for I/O: an answer already in the kernel at the
        // deadline would be read only after this callback. setImmediate runs after that poll, so
        // such an answer is seen first and never taken for silence.
        setImmediate(() => this.expireDue());
      },
      // Whole milliseconds: Node keeps one timer list per distinct delay.
      Math.max(0, Math.ceil(next - performance.now())),
    );
  }

  private expireDue() {
    const now = performance.now();
    for (const [kind, queue] of this.waiting) {
      const wait = this.waitOf(kind);
      for (const waiter of queue) {
        if (waiter.started + wait > now) break;
        queue.delete(waiter);
        waiter.expire();
      }
    }
    this.arm();
  }
}
