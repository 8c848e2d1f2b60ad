// Progress of long work (`vigil setup`, `vigil bench`) for a person watching a terminal: "[n/m] step"
// on stderr. When stderr is no terminal (a log file, CI, a pipe) it prints nothing, so captured
// output stays as plain as it was.

export interface Progress {
  /** The next step starts: `[n/m] what …`. */
  step(what: string): void;
}

export function progress(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  let done = 0;
  return {
    step(what) {
      done = Math.min(done + 1, total);
      if (stream.isTTY) stream.write(`[${done}/${total}] ${what} …\n`);
    },
  };
}
