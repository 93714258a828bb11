/** Runs tasks one after another in the order they were added; a task that fails does not stop the next. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task added so far has finished, however it ended. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
