/** Pieces ahead of a player's position that are fetched before any other. */
export const PLAY_WINDOW_PIECES = 8;

/**
 * Where a player reads a file that is still downloading (the page's Play): the pieces from there on are
 * handed out before any other, so what it asks for comes first. Nothing playing: every piece as usual.
 */
export class PlayWindow {
  /** The first piece wanted; -1 while nothing is asked for. */
  private first = -1;

  constructor(readonly span = PLAY_WINDOW_PIECES) {}

  /** The player reads from `piece` now. */
  at(piece: number): void {
    this.first = piece;
  }

  /** The pieces wanted first, [first, end), or undefined while nothing is asked for. */
  get range(): { first: number; end: number } | undefined {
    return this.first < 0 ? undefined : { first: this.first, end: this.first + this.span };
  }
}
