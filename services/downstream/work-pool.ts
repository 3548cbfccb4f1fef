/**
 * The downstream's worker pool, as a real server bounds its work: at most `concurrency`
 * requests worked on at once, up to `queueSize` more waiting, taken oldest first (fifo)
 * or newest first (lifo, which the SRE book recommends under overload: the newest caller
 * is the one most likely still waiting); beyond that, refused at once. Hand-written: no
 * library offers a bounded queue with a choice of order and a waiter that can leave
 * (p-limit and p-queue have neither a bound that refuses nor lifo).
 */
export type QueueOrder = 'fifo' | 'lifo';

export interface PoolSettings {
  concurrency: number;
  queueSize: number;
  order: QueueOrder;
}

/** A held slot: `release` gives it back (once; later calls do nothing). */
export interface Slot {
  release(): void;
}

/** A place in the queue: `slot` resolves when it is this request's turn; `leave` gives up the place. */
export interface Waiting {
  slot: Promise<Slot>;
  leave(): void;
}

export type Admission =
  { kind: 'slot'; slot: Slot } | { kind: 'queued'; waiting: Waiting } | { kind: 'full' };

interface Waiter {
  grant: (slot: Slot) => void;
  gone: boolean;
}

export class WorkPool {
  #settings: PoolSettings;
  #active = 0;
  #queue: Waiter[] = [];

  constructor(settings: PoolSettings) {
    this.#settings = settings;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** New limits apply to later admissions and releases; nothing running is stopped. */
  configure(settings: PoolSettings): void {
    this.#settings = settings;
    this.#drain();
  }

  /** A slot now, a place in the queue, or `full`. */
  admit(): Admission {
    if (this.#active < this.#settings.concurrency && this.#queue.length === 0) {
      this.#active += 1;
      return { kind: 'slot', slot: this.#slot() };
    }
    if (this.#queue.length >= this.#settings.queueSize) return { kind: 'full' };
    let grant!: (slot: Slot) => void;
    const slot = new Promise<Slot>((resolve) => (grant = resolve));
    const waiter: Waiter = { grant, gone: false };
    this.#queue.push(waiter);
    return {
      kind: 'queued',
      waiting: {
        slot,
        leave: () => {
          if (waiter.gone) return;
          waiter.gone = true;
          const index = this.#queue.indexOf(waiter);
          if (index >= 0) this.#queue.splice(index, 1);
        },
      },
    };
  }

  #slot(): Slot {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#active -= 1;
        this.#drain();
      },
    };
  }

  #drain(): void {
    while (this.#active < this.#settings.concurrency && this.#queue.length > 0) {
      const waiter = this.#settings.order === 'lifo' ? this.#queue.pop()! : this.#queue.shift()!;
      waiter.gone = true;
      this.#active += 1;
      waiter.grant(this.#slot());
    }
  }
}
