import { close, open } from 'node:fs';

type Callback = (error?: Error | null) => void;

/** For a stream's `_construct`: opens `path`, hands the descriptor to `opened`, then calls back. */
export function openFile(path: string | URL, flags: string, opened: (fd: number) => void, callback: Callback): void {
  open(path, flags, (error, fd) => {
    if (error) {
      callback(error);
      return;
    }
    opened(fd);
    callback();
  });
}

/**
 * For a stream's `_destroy`: closes `fd` (if open) once `inUse` — the read or write still
 * using it, if any — has settled. Never before: the number could be reused meanwhile.
 */
export function closeFile(fd: number | null, inUse: Promise<unknown> | null, error: Error | null, callback: Callback): void {
  if (fd === null) {
    callback(error);
    return;
  }
  void (inUse ?? Promise.resolve()).catch(() => {}).then(() => close(fd, (closeError) => callback(error ?? closeError)));
}
