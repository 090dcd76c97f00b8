/**
 * Lists that may hold the thread long (a scan or a sort of a large collection, up to the filter's
 * budget of a second each) take turns: one per turn of the event loop, with the loop reading
 * sockets between two of them. Eight such lists from one tenant, come together, ran back to back
 * and every other tenant's GET waited for all eight (7 s); now it waits for the one under way at
 * most. Quick lists and every other request do not queue here.
 *
 * Each turn is a `setImmediate` queued when the turn before it comes, from inside the check phase:
 * Node runs it at the next turn of the loop, after that turn's poll phase has read the sockets. The
 * caller must run its list as soon as its turn resolves, with no `await` between.
 */
export class ListTurns {
  private tail: Promise<void> = Promise.resolve();

  take(): Promise<void> {
    const turn = this.tail.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.tail = turn;
    return turn;
  }
}
