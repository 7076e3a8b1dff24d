/**
 * A FIFO async mutex. kafkalite keeps one writer per partition; in Node the danger is not threads but
 * interleaving at `await`, so a method that awaits while holding partition state runs under this lock.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve()
  private held = false

  get locked(): boolean {
    return this.held
  }

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const previous = this.tail
    let release!: () => void
    this.tail = new Promise<void>((resolve) => (release = resolve))
    await previous
    this.held = true
    try {
      return await fn()
    } finally {
      this.held = false
      release()
    }
  }
}
