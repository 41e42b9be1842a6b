/**
 * Runs async operations one at a time, in arrival order. The vhost catalog used
 * blockConcurrencyWhile for this, which resets the object when one operation takes longer than
 * 30 seconds: a definitions import of a thousand queues, or a thousand notification users in one
 * call, each awaiting their objects, can pass that on a loaded machine. Here a long operation only
 * makes the next ones wait; events that do not go through the queue (queue reports, connection
 * counts) are not held up by it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation);
    // The next operation waits for this one to end, whether it succeeded or not.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
